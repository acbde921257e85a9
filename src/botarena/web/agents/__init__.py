"""The pages of an agent and of a submission's build, with the build's live stream."""
