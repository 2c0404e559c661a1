"""Everything past the lecture's own pieces (those are in lenet_helpers.py), by concern.

- ``lenet5``: the LeNet-5 of 1998 and ``pad_to_32`` (notebooks 05 and 06)
- ``drawing``: ``draw_lenet`` (02, 05); digits, kernels, feature maps, confusion matrix (06)
- ``mnist``: ``load_mnist``, the shipped MNIST files checked against their checksums (06)
- ``training``: ``train_epoch``, ``predict``, ``evaluate``, ``confusion_matrix`` (06)
- ``explorer``, ``explorer_widgets``: the size explorer, ``lenet_sizes`` and ``explore`` (03);
  ``layer_table``: ``model_sizes``, any model layer by layer (03)
- ``exercises``: ``check``, the end-of-notebook exercises (01 to 06); ``answers`` computes
  them, ``code_checks`` and ``module_checks`` check the answers that are code
- ``table``: ``Table``, the plain-text tables every helper prints (03)
- ``checks``, ``figure_checks``: the checks every helper makes of its arguments;
  ``measuring``: running a learner's model without changing it
"""
