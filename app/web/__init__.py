"""The web page: server-rendered Jinja2 templates and a little JavaScript, served by the API
under ``/web``; no build step."""
