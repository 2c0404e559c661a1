"""Everything past the lecture's own pieces (those are in lenet_helpers.py), by concern.

- ``lenet5``: the LeNet-5 of 1998 (notebook 06) and ``pad_to_32`` (05, 07)
- ``drawing``: ``draw_lenet`` (02, 05, 06); digits, kernels, feature maps, confusion matrix (07)
- ``mnist``: ``load_mnist``, the shipped MNIST files checked against their checksums (05, 07)
- ``training``: ``train_epoch``, ``predict``, ``evaluate``, ``confusion_matrix`` (07)
- ``fitting``: ``fit``, a training run that can be run again, and ``choose_threads`` (07)
- ``progress``: the line per epoch ``fit`` rewrites in place, and ``show_history`` (07)
- ``explorer``, ``explorer_widgets``: the size explorer, ``lenet_sizes`` and ``explore`` (03);
  ``layer_table``: ``model_sizes``, any model layer by layer (03)
- ``exercises``: ``check``, the end-of-notebook exercises (01 to 07); ``answers`` computes
  them, ``code_checks`` and ``module_checks`` check the answers that are code
- ``table``: ``Table``, the plain-text tables every helper prints (03)
- ``checks``, ``figure_checks``: the checks every helper makes of its arguments;
  ``measuring``: running a learner's model without changing it
"""
