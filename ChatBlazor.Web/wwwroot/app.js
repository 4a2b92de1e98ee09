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
