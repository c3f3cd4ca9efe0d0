export const TITLE = 'Upload';
export async function render(main) { main.textContent = 'Coming soon'; }
