export const TITLE = 'Fleet';
export async function render(main) { main.textContent = 'Coming soon'; }
