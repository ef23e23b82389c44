"""Core building blocks shared by the API, the workers and the inference service: settings, the
database engine and session factory, the domain exception tree and logging."""
