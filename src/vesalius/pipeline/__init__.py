"""Pipeline: routing rules, jobs and executors that run analyses on incoming studies.

- :mod:`~vesalius.pipeline.routing`: :class:`RoutingRule`, ``route(header)`` and
  ``rules_from_toml`` (``[[routing]]`` tables);
- :mod:`~vesalius.pipeline.apps`: the analysis apps by name (``chest-ct``);
- :mod:`~vesalius.pipeline.jobs`: one job per routed (series, app), run with retries of
  transient failures, findings saved with the job's completion;
- :mod:`~vesalius.pipeline.executors`: the executor interface, the local thread pool and the
  in-process fake; :mod:`~vesalius.pipeline.dask_executor` runs on a Dask cluster;
- :mod:`~vesalius.pipeline.batch`: a folder imported, routed and run, resumably.

Nothing is imported here: import the module you need.
"""
