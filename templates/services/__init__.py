"""Writes and rules of prompt templates, experiments and service runs.

parameters: the parameter definition of a template and the validation of input.
rendering: {{placeholder}} substitution into the prompts.
validation: the model's output checked against the template's JSON Schema.
definitions: a template as a whole (parameters, placeholders, schema, model).
versions: new version, activate, roll back, diff.
experiments: A/B assignment, counters, the winner rule, status changes.
run: running a service (reserve, call the model in a task, settle or release).
stats: usage count and running averages of a template, in one UPDATE.
ratings, sharing, expiry: what happens to a result afterwards.
"""
