"""Local Sphinx extension of the ntk_toolkit documentation.

* **Theory links.** Equations of ``theory.md`` carry labels equal to their
  numbers (``$$ … $$ (2.7)``) and are displayed with that number. Every numbered
  section ``N.M Title`` of ``theory.md`` is registered as the label
  ``theory-N.M``. Anywhere in the documentation — docstrings included — the
  citation ``§N.M`` becomes a link to that section, ``eq. (N.M)`` a link to
  that equation and ``docs/theory.md`` a link to the page. A citation of a
  section or equation that does not exist fails the build (``-W``).
* **Catalogue of checks.** ``_generated/checks_catalogue.md`` is written from
  the registry of :mod:`ntk_toolkit.checks` at the start of every build.
* **Notebooks.** ``notebooks/*.ipynb`` of the repository are copied into
  ``docs/notebooks/`` (generated) with an index page; myst-nb executes them.
  Only ``.ipynb`` files are copied: the paired jupytext ``.py`` files are not
  documentation sources.

Generated files are rewritten only when their content changes, so an
unchanged tree does not trigger re-reading or re-execution.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

THEORY_DOC = "theory"
EQ_LABEL = re.compile(r"^\d+\.\d+$")
SECTION_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)\.?\s")

# "§2.3", "§ 2.3", "§2.2–2.3", "§4.2–§4.3"
SECTION_CITE = re.compile(r"§\s?(\d+(?:\.\d+)?)(?:(\s*[–-]\s*)(§?)(\d+(?:\.\d+)?))?")
# "eq. (2.7)", "eqs. (2.7), (2.8)", "eqs. (2.7)–(2.9)", "eq. (2.7) and (2.8)"
EQ_CITE = re.compile(r"\b(?:[Ee]qs?\.|[Ee]quations?)\s*\(\d+\.\d+\)(?:\s*(?:,|–|-|and|to)\s*\(\d+\.\d+\))*")
EQ_NUMBER = re.compile(r"\((\d+\.\d+)\)")
THEORY_FILE = "docs/theory.md"

SKIP_PARENTS = (nodes.literal, nodes.literal_block, nodes.math, nodes.math_block, nodes.reference,
                nodes.target, nodes.raw, nodes.comment, nodes.title, nodes.FixedTextElement,
                addnodes.pending_xref, addnodes.desc_signature, addnodes.toctree)


# ----------------------------------------------------------------------------- links
def _xref(domain: str, reftype: str, target: str, text: str | nodes.Node, refdoc: str) -> addnodes.pending_xref:
    inner = text if isinstance(text, nodes.Node) else nodes.inline(text, text, classes=["xref", "theory-ref"])
    node = addnodes.pending_xref("", inner, refdomain=domain, reftype=reftype, reftarget=target,
                                 refexplicit=True, refwarn=True, refdoc=refdoc)
    return node


def _eq_xref(number: str, refdoc: str) -> addnodes.pending_xref:
    # the math domain renders the title itself, as "(N.M)"
    return addnodes.pending_xref("", nodes.Text(f"({number})"), refdomain="math", reftype="eq",
                                 reftarget=number, refexplicit=False, refwarn=True, refdoc=refdoc)


def _section_target(number: str) -> str:
    return f"theory-{number}"


def _split_text(text: str, refdoc: str) -> list[nodes.Node] | None:
    """Nodes for ``text`` with its citations turned into cross-references, or None if it has none."""
    spans = []
    for m in SECTION_CITE.finditer(text):
        spans.append((m.start(), m.end(), "sec", m))
    for m in EQ_CITE.finditer(text):
        spans.append((m.start(), m.end(), "eq", m))
    idx = text.find(THEORY_FILE)
    while idx >= 0:
        spans.append((idx, idx + len(THEORY_FILE), "doc", None))
        idx = text.find(THEORY_FILE, idx + 1)
    if not spans:
        return None
    spans.sort(key=lambda s: s[0])
    out: list[nodes.Node] = []
    pos = 0
    for start, end, kind, m in spans:
        if start < pos:  # overlapping (cannot happen with these patterns, but be safe)
            continue
        if start > pos:
            out.append(nodes.Text(text[pos:start]))
        if kind == "sec":
            first, sep, second_mark, second = m.group(1), m.group(2), m.group(3), m.group(4)
            head = text[start:m.start(1)] + first
            out.append(_xref("std", "ref", _section_target(first), head, refdoc))
            if second:
                out.append(nodes.Text(sep))
                out.append(_xref("std", "ref", _section_target(second), f"{second_mark}{second}", refdoc))
        elif kind == "eq":
            chunk = text[start:end]
            cpos = 0
            for em in EQ_NUMBER.finditer(chunk):
                out.append(nodes.Text(chunk[cpos:em.start()]))
                out.append(_eq_xref(em.group(1), refdoc))
                cpos = em.end()
            out.append(nodes.Text(chunk[cpos:]))
        else:
            out.append(_xref("std", "doc", f"/{THEORY_DOC}", THEORY_FILE, refdoc))
        pos = end
    if pos < len(text):
        out.append(nodes.Text(text[pos:]))
    return out


def _skipped(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, SKIP_PARENTS):
            return True
        parent = parent.parent
    return False


class TheoryCitations(SphinxTransform):
    """Turn ``§N.M``, ``eq. (N.M)`` and ``docs/theory.md`` into links (text and ``docs/theory.md`` literals)."""

    default_priority = 400

    def apply(self, **kwargs) -> None:
        refdoc = self.env.docname
        for lit in list(self.document.findall(nodes.literal)):
            if lit.astext() == THEORY_FILE and not _skipped(lit) and lit.parent is not None:
                ref = _xref("std", "doc", f"/{THEORY_DOC}", lit.deepcopy(), refdoc)
                lit.parent.replace(lit, ref)
        for text in list(self.document.findall(nodes.Text)):
            if text.parent is None or _skipped(text):
                continue
            value = str(text)
            if "§" not in value and "eq" not in value.lower() and THEORY_FILE not in value:
                continue
            new = _split_text(value, refdoc)
            if new is None:
                continue
            parent = text.parent
            index = parent.index(text)
            parent.remove(text)
            for offset, child in enumerate(new):
                parent.insert(index + offset, child)


def number_theory(app, doctree) -> None:
    """Display labelled equations with their label as number; register ``theory-N.M`` section labels."""
    env = app.env
    docname = env.docname
    math = env.domains["math"]
    for node in doctree.findall(nodes.math_block):
        label = node.get("label")
        if label and EQ_LABEL.match(label):
            node["number"] = label
            math.equations[label] = (docname, label)
    if docname != THEORY_DOC:
        return
    std = env.domains.standard_domain
    for section in doctree.findall(nodes.section):
        title = section[0].astext() if section.children else ""
        m = SECTION_NUMBER.match(title)
        if not m or not section["ids"]:
            continue
        label = _section_target(m.group(1))
        std.labels[label] = (docname, section["ids"][0], title)
        std.anonlabels[label] = (docname, section["ids"][0])


# ----------------------------------------------------------------------------- generated files
def _write_if_changed(path: Path, text: str) -> None:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _fmt_value(value) -> str:
    if isinstance(value, tuple | list):
        return ", ".join(_fmt_value(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _profile_tables(check) -> tuple[dict, dict]:
    """Per-profile parameters and common parameters a check reads from module-level tables."""
    from ntk_toolkit.checks import PROFILES

    func = inspect.unwrap(check.func)
    per_profile: dict[str, dict] = {}
    common: dict = {}
    for name in func.__code__.co_names:
        value = func.__globals__.get(name)
        if not isinstance(value, dict) or not value:
            continue
        if set(value) <= set(PROFILES) and all(isinstance(v, dict) for v in value.values()):
            for prof, params in value.items():
                per_profile.setdefault(prof, {}).update(params)
        elif name.endswith("_COMMON"):
            common.update(value)
    return per_profile, common


def _criterion(doc: str) -> tuple[str, str, str]:
    """Split a check's docstring into (summary, criterion, full body)."""
    doc = inspect.cleandoc(doc or "")
    summary, _, body = doc.partition("\n")
    body = body.strip()
    m = re.search(r"(?:^|(?<=[.)]\s))Pass\b", body, flags=re.MULTILINE)
    criterion = ""
    if m:
        rest = body[m.start():]
        stop = re.search(r"\n\s*\n|\n\s*Faults?\b|(?<=[.)])\s+Faults?\b", rest)
        criterion = rest[:stop.start()] if stop else rest
        criterion = re.sub(r"^Pass\s*[:,]?\s*", "", criterion).strip()
        criterion = " ".join(line.strip() for line in criterion.splitlines())
        criterion = criterion[:1].upper() + criterion[1:]
    return summary.strip(), criterion, body


def _md_table(rows: list[list[str]], header: list[str]) -> list[str]:
    def cell(s: str) -> str:
        return s.replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def checks_catalogue() -> str:
    from ntk_toolkit.checks import all_checks

    checks = all_checks()
    families: dict[str, list] = {}
    for c in checks:
        families.setdefault(c.family, []).append(c)
    lines = [
        "<!-- Generated from the registry of ntk_toolkit.checks by docs/_ext/ntk_docs.py; do not edit. -->",
        "",
        f"The registry holds **{len(checks)} checks** in {len(families)} families.",
        "",
    ]
    lines += _md_table([[f"{{ref}}`{c.name} <{_anchor(c.name)}>`", c.family, c.claim] for c in checks],
                       ["check", "family", "claim"])
    lines.append("")
    for family, items in families.items():
        lines += [f"## Family `{family}`", ""]
        for c in items:
            summary, criterion, body = _criterion(c.doc)
            per_profile, common = _profile_tables(c)
            lines += [f"({_anchor(c.name)})=", f"### `{c.name}`", ""]
            lines += [f"**Claim.** {c.claim}", ""]
            lines += [f"**Reference.** {c.reference}", ""]
            if criterion:
                lines += [f"**Pass criterion.** {criterion}", ""]
            shown = [p for p in ("quick", "full") if p in per_profile]
            if shown:
                keys = []
                for p in shown:
                    keys += [k for k in per_profile[p] if k not in keys]
                rows = [[f"`{k}`"] + [_fmt_value(per_profile[p].get(k, "—")) for p in shown] for k in keys]
                lines += ["**Profiles.** Parameters of the `quick` profile (the default of "
                          "`ntk-toolkit verify`) and of `--profile full`:", ""]
                lines += _md_table(rows, ["parameter"] + [f"`{p}`" for p in shown])
                lines.append("")
            else:
                lines += ["**Profiles.** Same sizes in every profile.", ""]
            if common:
                lines += ["Fixed in every profile: " + ", ".join(f"`{k}` = {_fmt_value(v)}" for k, v in
                                                               common.items()) + ".", ""]
            if c.faults:
                lines += ["**Self-tests.** Injected faults that must turn the verdict to FAIL: "
                          + ", ".join(f"`{f}`" for f in c.faults) + ".", ""]
            lines += ["**How it is measured.** " + summary, ""]
            lines += [line.strip() for line in body.splitlines()]
            lines += ["", f"Run it alone: `ntk-toolkit verify --only {c.name}`.", ""]
    return "\n".join(lines).rstrip() + "\n"


def _anchor(name: str) -> str:
    return "check-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def notebooks_index(names: list[str]) -> str:
    lines = [
        "# Notebooks",
        "",
        "Executed tutorials. The sources are the notebooks in the `notebooks/` folder of the",
        "repository (each paired with a jupytext `.py` file); this site runs them at build time",
        "with `NTK_TOOLKIT_QUICK=1`, the small sizes of the quick mode, so every figure on these",
        "pages was produced by the code above it. Run them yourself at full size with",
        "`jupyter lab notebooks/` (or `jupytext --to notebook notebooks/*.py`).",
        "",
    ]
    if names:
        lines += ["```{toctree}", ":maxdepth: 1", ""] + names + ["```", ""]
    else:
        lines += ["No notebooks were found in `notebooks/` when this site was built.", ""]
    return "\n".join(lines)


# "[theory §2.3](../docs/theory.md)" in a notebook of notebooks/ -> a link to that section
NB_THEORY_LINK = re.compile(r"\[([^\]`<>]*?§\s?(\d+(?:\.\d+)?)[^\]`<>]*)\]\(\.\./docs/theory\.md\)")


def _relink_notebook(text: str) -> str:
    """Rewrite the repository-relative links of a notebook for its copy in ``docs/notebooks/``.

    Markdown cells link to ``../docs/<page>``; from the copy that page is ``../<page>``. Links
    to ``theory.md`` whose text cites a section become links to that section.
    """
    import json

    nb = json.loads(text)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        src = NB_THEORY_LINK.sub(lambda m: f"{{ref}}`{m.group(1)} <theory-{m.group(2)}>`", src)
        src = src.replace("](../docs/", "](../")
        cell["source"] = src
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


_BENCH_OPERATIONS = {
    ("kernel", "torch"): "empirical kernel vs `torch.func.jacrev` J Jᵀ",
    ("kernel", "jax"): "empirical kernel vs `jax.jacrev` J Jᵀ",
    ("kernel", "time"): "empirical kernel, time",
    ("kernel", "memory"): "empirical kernel, time and peak extra memory (fresh process)",
    ("gd", "naive"): "gradient descent per step vs the dense NumPy loop",
    ("gd", "torch"): "gradient descent per step vs the PyTorch autograd loop",
    ("gd", "jax"): "gradient descent per step vs the jitted JAX loop",
    ("gd", "bound"): "gradient descent per step vs the memory-bandwidth bound",
    ("gd", "float32"): "gradient descent per step, float32 vs float64",
    ("spectrum", "time"): "spectrum of Σ",
    ("startup", "import"): "`import ntk_toolkit`",
}


def bench_tables() -> str:
    """Sizes of the two modes and the targets of the full mode, read from ``ntk_toolkit.bench``."""
    head = "<!-- Generated from ntk_toolkit.bench.suite by docs/_ext/ntk_docs.py; do not edit. -->\n\n"
    try:
        from ntk_toolkit.bench import suite
        from ntk_toolkit.bench.report import target_text
    except ImportError:
        return head + "## Sizes and targets\n\nThe benchmark suite is not part of this version.\n"
    rows = [
        ["empirical kernel vs the explicit J Jᵀ (and the peers)", "kernel_pair"],
        ["empirical kernel, timed", "kernel_times"],
        ["empirical kernel with peak memory, fresh process", "kernel_memory"],
        ["largest (n, 16n) kernel within 60 s", "largest"],
        ["gradient descent (n, k)", "gd"],
        ["spectrum n", "spectrum_n"],
    ]

    def cell(cfg, attr):
        value = getattr(cfg, attr, None)
        if value is None:
            return "—"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if attr in ("kernel_times", "kernel_memory"):
            return ", ".join(str(tuple(size)) for size, _ in value) or "—"
        if attr == "spectrum_n" and value & (value - 1) == 0:
            return f"2^{value.bit_length() - 1}"
        return str(value)

    lines = [head + "## Sizes", "", "| measurement | `--quick` | full |", "|---|---|---|"]
    lines += [f"| {label} | {cell(suite.QUICK, attr)} | {cell(suite.FULL, attr)} |" for label, attr in rows]
    lines += ["", "## Targets", "",
              "The full run checks these targets and lists any that are missed (the quick run checks none). "
              "Ratios are against the reference named; times are medians.", "",
              "| measurement | size | target |", "|---|---|---|"]
    for (section, op, size), target in getattr(suite, "TARGETS", {}).items():
        label = _BENCH_OPERATIONS.get((section, op), f"{section}: {op}")
        size_text = "—" if not size else ("n = 2^20" if size == (2**20,) else str(tuple(size)))
        lines.append(f"| {label} | {size_text} | {target_text(target).replace('× C', '× the size of C')} |")
    return "\n".join(lines) + "\n"


def generate(app, config) -> None:
    src = Path(app.srcdir)
    root = src.parent
    _write_if_changed(src / "_generated" / "checks_catalogue.md", checks_catalogue())
    _write_if_changed(src / "_generated" / "bench_tables.md", bench_tables())

    out = src / "notebooks"
    out.mkdir(exist_ok=True)
    sources = sorted((root / "notebooks").glob("*.ipynb")) if (root / "notebooks").is_dir() else []
    names = []
    for nb in sources:
        names.append(nb.stem)
        target = out / nb.name
        data = _relink_notebook(nb.read_text(encoding="utf-8")).encode("utf-8")
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
    for stale in out.glob("*.ipynb"):
        if stale.stem not in names:
            stale.unlink()
    _write_if_changed(out / "index.md", notebooks_index(names))


def setup(app):
    app.connect("config-inited", generate)
    app.connect("doctree-read", number_theory)
    app.add_transform(TheoryCitations)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
