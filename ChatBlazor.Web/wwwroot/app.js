// Copy buttons on code blocks in messages (added by Chat/MarkdownRenderer.cs): one listener for the whole page,
// so blocks that stream in later need no wiring.
document.addEventListener('click', async event => {
  const button = event.target.closest('button.copy-code');
  if (!button) return;
  const code = button.parentElement.querySelector('pre')?.innerText ?? '';
  try {
    await navigator.clipboard.writeText(code);
    button.textContent = 'Copied';
  } catch {
    button.textContent = 'Copy failed';
  }
  setTimeout(() => { button.textContent = 'Copy'; }, 1500);
});

window.chatBlazor = {
  // Keeps the newest message in view while a reply streams, unless the reader has scrolled up to read.
  scrollToEnd(id) {
    const list = document.getElementById(id);
    if (!list) return;
    const nearEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 160;
    if (nearEnd || !list.dataset.scrolled) {
      list.scrollTop = list.scrollHeight;
      list.dataset.scrolled = '1';
    }
  },
};

// The composer (Chat/Composer.razor). Its text stays here while the user types: only whether the box is empty
// crosses the circuit, when that changes. Enter sends the text (handed to the component directly, so a message
// typed and sent at once is not lost to a send button that has not heard of it yet), Shift+Enter is a new line,
// Esc stops the reply. Text longer than a message may be is not sent at all: only its length is.
window.chatBlazor.bindComposer = (input, composer, maxLength) => {
  input._composer = composer;
  input._maxLength = maxLength;
  let hasText = false;
  input.addEventListener('input', () => {
    const now = input.value.trim().length > 0;
    if (now !== hasText) {
      hasText = now;
      composer.invokeMethodAsync('SetHasText', now);
    }
  });
  input.addEventListener('keydown', event => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      const text = window.chatBlazor.composerText(input);
      if (text !== null) composer.invokeMethodAsync('SendTextAsync', text);
    }
  });
};
window.chatBlazor.composerText = input => {
  if (input.value.length > input._maxLength) {
    input._composer.invokeMethodAsync('TooLongAsync', input.value.length);
    return null;
  }
  return input.value;
};
window.chatBlazor.clearComposer = input => {
  input.value = '';
  input.dispatchEvent(new Event('input'));
};
document.addEventListener('keydown', event => {
  if (event.key === 'Escape') document.querySelector('[data-testid="stop-button"]')?.click();
});
