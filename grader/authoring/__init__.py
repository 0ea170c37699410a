"""The authoring wing: what makes and proves the course from the references.

`notebooks` (the nbgrader source notebooks), `devcheck` (reference passes, stub fails, planted
mistakes caught), `student_package` (the wheel without answers), `course_run` (the example class) and
`gradescope` (the autograder bundle). The stubs themselves are the learner's (grader.learner.stubs)."""
