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

// The composer's keys: Enter sends what is in the box (handed to the page directly, so a message typed and sent at
// once is not lost to a send button that has not heard of it yet), Shift+Enter is a new line, Esc stops the reply.
window.chatBlazor.bindComposer = (input, page) => {
  input.addEventListener('keydown', event => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      page.invokeMethodAsync('SendTextAsync', input.value);
    }
  });
};
document.addEventListener('keydown', event => {
  if (event.key === 'Escape') document.querySelector('[data-testid="stop-button"]')?.click();
});
