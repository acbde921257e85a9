"""The executor service's wire format (generated from executor.proto by `make proto`)."""
