// A display formula wider than the column scrolls inside its box (.math-wrapper). Like the
// theme does for code and outputs, such a box gets a tab stop, so that it can be scrolled
// with the keyboard; a box that fits gets none. Checked again when the window is resized.
(() => {
  const update = () => {
    for (const box of document.querySelectorAll(".math-wrapper")) {
      box.tabIndex = box.scrollWidth > box.clientWidth ? 0 : -1;
    }
  };
  window.addEventListener("load", update);
  window.addEventListener("resize", update);
})();
