"""Plans under a memory budget: checkpointing and recomputation (issue 11).

The modules are imported by their full path (``chainorder.checkpoint.revolve``,
``chainorder.checkpoint.segments``, ``chainorder.checkpoint.actions``,
``chainorder.checkpoint.sweep_events``).
"""

__all__: list[str] = []
