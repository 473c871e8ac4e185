"""Worked example: when does forward, reverse or a mixed bracketing win?

Run:  python examples/plan_chains.py

The lecture's rule of thumb — forward mode for narrow inputs, reverse mode (backprop) for
narrow outputs such as a scalar loss — falls out of the closed forms; chains that are narrow
in the middle (an hourglass) are where a mixed bracketing beats both.
"""

from chainorder import compare_modes, forward_mults_closed_form, reverse_mults_closed_form
from chainorder.units import format_bytes

CHAINS = {
    "lecture chain": "30,35,15,5,10,20,25",
    "MLP with a 10-way output": "784,512,tanh,512,tanh,10",
    "scalar loss (d_L = 1)": "1000,500,500,500,1",
    "one input (d_0 = 1)": "1,500,500,500,1000",
    "hourglass": "4096,64,4096,64,4096",
}


def _versus(speedup: float) -> str:
    """'3.14× fewer mults', or 'same mults' when the plans cost the same."""
    return "same mults" if speedup == 1 else f"{speedup:.3g}× fewer mults"


def main() -> None:
    for title, spec in CHAINS.items():
        plans = compare_modes(spec)
        best = plans["optimal"]
        print(f"{title}: {spec}")
        for name, p in plans.items():
            print(
                f"  {name:8s} {p.mults:>15,d} mults  "
                f"{format_bytes(p.peak_bytes('streamed')):>10} streamed"
                f"  ({p.mode.value}) {p.expression() if p.n_links <= 6 else ''}"
            )
        print(
            f"  optimal vs forward: {_versus(best.speedup_vs_forward)}; "
            f"vs reverse: {_versus(best.speedup_vs_reverse)}\n"
        )
    dims = [30, 35, 15, 5, 10, 20, 25]
    print(
        "closed forms on the lecture chain:",
        f"forward {forward_mults_closed_form(dims):,} mults,",
        f"reverse {reverse_mults_closed_form(dims):,} mults",
    )


if __name__ == "__main__":
    main()
