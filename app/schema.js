// The settings table, the recipes and the page's limits, as Python defines them
// (tinygpt.settings and tinygpt.session.limits). The build writes them into the site as
// schema.json (`python -m tinygpt schema`), so the form, the links and the name card
// have them before Python has started, and no JavaScript keeps a copy of a limit.
const response = await fetch(new URL("../schema.json", import.meta.url));
if (!response.ok) throw new Error(`schema.json: HTTP ${response.status}`);

export const schema = await response.json();
export const limits = schema.limits;
export const setting = Object.fromEntries(schema.settings.map((s) => [s.name, s]));
export const recipes = Object.fromEntries(schema.recipes.map((r) => [r.name, r]));
