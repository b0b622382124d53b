"""Point the course at a repository and ref: ``python tools/set_repo.py URL [REF]`` (``make set-repo URL=...
REF=...``) writes them into pyproject.toml, then rewrites every notebook's setup cell and Colab badge (the student versions'
too) and the README's badges from it. Run it after forking the course, or to pin a release tag for a graded lab."""

from __future__ import annotations

import argparse
import json
import re
import sys

from notebook_setup import BADGE_RE, ROOT, badge, owner_repo, repository, setup_cell


def write_pyproject(url: str, ref: str) -> None:
    path = ROOT / "pyproject.toml"
    text = path.read_text()
    text, n_url = re.subn(r'(?m)^Repository = "[^"]*"', f'Repository = "{url}"', text)
    text, n_ref = re.subn(r'(?m)^ref = "[^"]*"', f'ref = "{ref}"', text)
    if n_url != 1 or n_ref != 1:
        raise SystemExit("pyproject.toml must hold one `Repository = ...` under [project.urls] and one `ref = ...` under [tool.kit]")
    path.write_text(text)


def rewrite(url: str, ref: str) -> list[str]:
    """Rewrite the notebooks and the README from (url, ref); returns the files changed."""
    changed = []
    for path in [*sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")), *sorted((ROOT / "notebooks" / "student").glob("[0-9][0-9]_*.ipynb"))]:
        nb = json.loads(path.read_text())
        name = path.stem
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        if not code or "KIT_REPO =" not in "".join(code[0]["source"]):
            raise SystemExit(f"{path.name}: the first code cell must be the setup cell")
        code[0]["source"] = setup_cell(name, url, ref).splitlines(keepends=True)
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                src = "".join(cell["source"])
                new = BADGE_RE.sub(lambda m: badge(m.group(2), url, ref, student=bool(m.group(1))), src)
                cell["source"] = new.splitlines(keepends=True)
        text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        if text != path.read_text():
            path.write_text(text)
            changed.append(str(path.relative_to(ROOT)))
    readme = ROOT / "README.md"
    text = readme.read_text()
    new = BADGE_RE.sub(lambda m: badge(m.group(2), url, ref, student=bool(m.group(1))), text)
    if new != text:
        readme.write_text(new)
        changed.append("README.md")
    return changed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url", nargs="?", help="https://github.com/OWNER/NAME (default: keep pyproject.toml's)")
    ap.add_argument("ref", nargs="?", help="branch or tag (default: keep pyproject.toml's)")
    args = ap.parse_args(argv)
    url, ref = repository()
    url, ref = args.url or url, args.ref or ref
    owner_repo(url)  # a GitHub URL?
    if not re.fullmatch(r"[\w./-]+", ref):
        raise SystemExit(f"ref must be a branch or tag name, got {ref!r}")
    write_pyproject(url, ref)
    for f in rewrite(url, ref):
        print(f"rewrote {f}")
    print(f"The course now installs from {url} at {ref}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
