// Loaded by Chainlit on every page ([UI] custom_js in .chainlit/config.toml).
//
// A thumb whose comment box is closed without its button (the ×, Échap, a click outside) is dropped by
// Chainlit 2.12: nothing is recorded and the thumb is not shown as given. Here closing the box sends the thumb
// as given, with whatever comment was typed, by pressing the box's own submit button: Chainlit then records
// it and shows the thumb highlighted, as after « Envoyer ».
(function () {
  function feedbackBox() {
    const submit = document.getElementById('submit-feedback');
    return submit ? { submit: submit, box: submit.closest('[role="dialog"]') } : null;
  }

  function sendInstead(event, open) {
    event.preventDefault();
    event.stopPropagation();
    event.stopImmediatePropagation();
    open.submit.click();
  }

  // Capture on window runs before Radix's own listeners on the document: they never see the closing gesture.
  window.addEventListener('click', function (event) {
    const open = feedbackBox();
    if (!open || !open.box) return;
    const button = event.target.closest && event.target.closest('button');
    if (button && open.box.contains(button) && button !== open.submit) sendInstead(event, open);
  }, true);

  window.addEventListener('pointerdown', function (event) {
    const open = feedbackBox();
    if (open && open.box && !open.box.contains(event.target)) sendInstead(event, open);
  }, true);

  window.addEventListener('keydown', function (event) {
    const open = feedbackBox();
    if (open && event.key === 'Escape') sendInstead(event, open);
  }, true);
})();
