"""The learner's wing: what a lesson's tests and a learner's commands use.

The pytest plugin (`pytest_plugin`) and the bounds it keeps (`limits`, `resume`); what a test says
(`expect`, `jax_errors`, `jaxprs`, `bounded_loops`, `numbers`); where the lessons are (`targets`,
`points`, `stubs`, `datasets`); and the learner's commands (`commands`, `hints`, `remember`, `status`,
`progress`, `runs`, `plots`, `nbcheck` for the notebooks' check cells)."""
