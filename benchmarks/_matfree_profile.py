"""Figure E of benchmarks/bench_matfree.py: time per multiplication by link kind, measured
inside figure B's runs (every plan of its chains, given setting), from the executor's own
event trace (:func:`chainorder.matfree.execute.replay` with ``trace=``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from chainorder.matfree.elementals import ElementalChain
from chainorder.matfree.execute import form_given, replay
from chainorder.matfree.measure import candidate_plans
from chainorder.matfree.schedule import schedule

__all__ = ["UNPRICED", "figure_e", "profile_chain"]

#: Events that compute without priced multiplications (seeds, diagonal expansions).
UNPRICED = ("identity", "ones", "densify", "densify_root", "form")

NAMES = {
    ("jvp", "dense"): "dense JVP (W·T)",
    ("vjp", "dense"): "dense VJP (A·W)",
    ("multiply", "dense"): "dense product node",
    ("jvp", "elementwise"): "elementwise JVP",
    ("vjp", "elementwise"): "elementwise VJP",
    ("multiply", "diagonal"): "diagonal scaling node",
    ("jvp", "conv2d"): "conv2d JVP",
    ("vjp", "conv2d"): "conv2d VJP",
}


def profile_chain(links: Sequence, repeat: int) -> dict[tuple[str, str], list[float]]:
    """``{(event, link kind): [CPU seconds, mults]}`` over every plan of ``links``: each plan
    replayed ``repeat`` times round-robin, each event's best time kept."""
    net = ElementalChain(links, seed=0)
    x = net.random_input(1)
    tapes = net.tapes(x)
    given = {
        l: form_given(net.layers[l - 1], tapes[l - 1])
        for l, link in enumerate(links, start=1)
        if link.given
    }
    scheds = [schedule(p, "given") for _, p in candidate_plans(tuple(links), "float64", True)]
    best: list[list[tuple[str, str, float, int]]] = [[] for _ in scheds]
    for rnd in range(repeat + 1):  # one warm-up round
        for k, sched in enumerate(scheds):
            trace: list = []
            replay(sched, net, tapes=tapes, given=given, trace=trace)
            if rnd == 1:
                best[k] = trace
            elif rnd > 1:
                pairs = zip(best[k], trace, strict=True)
                best[k] = [(*a[:2], min(a[2], b[2]), a[3]) for a, b in pairs]
    out: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0])
    for trace in best:
        for kind, link_kind, seconds, mults in trace:
            key = ("unpriced", kind) if kind in UNPRICED else (kind, link_kind)
            out[key][0] += seconds
            out[key][1] += mults
    return out


def figure_e(repeat: int, chains: Sequence[Sequence], describe: Callable) -> tuple[str, None]:
    """Markdown of figure E for ``chains`` (lists of links; ``describe(links)`` names one)."""
    per_chain = [profile_chain(links, repeat) for links in chains]
    total: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0])
    for prof in per_chain:
        for key, (sec, mults) in prof.items():
            total[key][0] += sec
            total[key][1] += mults
    all_seconds = sum(sec for sec, _ in total.values())
    ref = total[("jvp", "dense")]
    dense_ns = ref[0] / ref[1] * 1e9 if ref[1] else float("nan")
    lines = [
        "### E. Time per multiplication by link kind, inside figure B's runs",
        "",
        "Every plan of figure B's chains (given setting), replayed with the executor's event "
        f"trace, {repeat} rounds round-robin after a warm-up, each event's best CPU time "
        "(`thread_time`) kept; summed over all plans. *× dense JVP*: ns/mult over the dense "
        "JVPs' (BLAS) ns/mult. Unpriced events (seeds, diagonal expansions) have no mults; "
        "their row gives their share of all the time.",
        "",
        "| event | mults | CPU (ms) | ns/mult | × dense JVP | share of time |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    order = [*NAMES, *sorted(k for k in total if k not in NAMES)]
    for key in order:
        if key not in total:
            continue
        sec, mults = total[key]
        name = NAMES.get(key, f"{key[1]} ({key[0]})")
        ns = sec / mults * 1e9 if mults else float("nan")
        rel = f"{ns / dense_ns:.1f}" if mults else "—"
        lines.append(
            f"| {name} | {mults / 1e6:,.1f} M | {sec * 1e3:,.1f} | "
            f"{f'{ns:.3f}' if mults else '—'} | {rel} | {sec / all_seconds:.1%} |"
        )
    conv_rows = []
    for links, prof in zip(chains, per_chain, strict=True):
        if links[0].kind != "conv2d":
            continue
        cells = []
        for key in (("jvp", "conv2d"), ("vjp", "conv2d"), ("jvp", "elementwise"),
                    ("vjp", "elementwise")):
            sec, mults = prof.get(key, (0.0, 0))
            cells.append(f"{sec / mults * 1e9:.3f}" if mults else "—")
        conv_rows.append(f"| {describe(links)} | " + " | ".join(cells) + " |")
    if conv_rows:
        lines += [
            "",
            "Per chain that starts with a convolution (ns/mult):",
            "",
            "| chain | conv2d JVP | conv2d VJP | elementwise JVP | elementwise VJP |",
            "|---|---:|---:|---:|---:|",
            *conv_rows,
        ]
    return "\n".join(lines), None


if __name__ == "__main__":  # a quick look: python benchmarks/_matfree_profile.py
    from chainorder.matfree.links import dense, elementwise

    print(figure_e(2, [[dense(300, 200), elementwise(300, "tanh"), dense(50, 300)]], str)[0])
