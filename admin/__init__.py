"""Staff side: the `ourvoice` CLI, the admin web app, reports and the scheduler."""
