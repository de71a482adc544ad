"""RQ queues, jobs, the worker entry point and periodic jobs."""
