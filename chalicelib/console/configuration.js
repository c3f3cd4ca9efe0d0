export const TITLE = 'Configuration';
export async function render(main) { main.textContent = 'Coming soon'; }
