"""Pipeline: routing rules, jobs and executors that run analyses on incoming studies."""
