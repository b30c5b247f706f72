"""Several `ourvoice run` processes on one PostgreSQL database (issue 26): the proof under SIGKILL."""
