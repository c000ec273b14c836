// Mounts the tinygpt package into a Pyodide that PyScript did not start (the lessons'
// workers, the benchmark page). The module list is read from pyscript.toml, the list the
// playground mounts and the build checks, so every Pyodide of the site runs one package.
export async function installTinygpt(pyodide, site, home = "/home/pyodide") {
  const toml = await fetchText(new URL("pyscript.toml", site));
  const files = [...toml.matchAll(/"\.\/py\/tinygpt\/([\w/]+\.\w+)"/g)].map((m) => m[1]);
  if (!files.length) throw new Error("pyscript.toml lists no tinygpt modules");
  await Promise.all(files.map(async (file) => {
    const dest = `${home}/tinygpt/${file}`; // file may sit in a subfolder (pytorch/)
    pyodide.FS.mkdirTree(dest.slice(0, dest.lastIndexOf("/")));
    pyodide.FS.writeFile(dest, await fetchText(new URL(`py/tinygpt/${file}`, site)));
  }));
}

export async function fetchText(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.text();
}
