"""The document pipeline's stages as the workers run them: each stage re-loads its job, skips
itself when already done, records progress in the job's stage row and stores a readable failure
reason on the document when the input is bad."""
