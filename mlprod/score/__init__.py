"""`mlprod score`: the rubric, from evidence (the last step of spec -> generate -> run -> score).

- `current`: re-render the generated files in memory and compare them with the disk;
- `git`: what is committed, changed or ignored;
- `shell`, `ci`, `gitlab`, `cron`: which CI jobs run the generated tests, and can fail;
- `results`: JUnit files and run records of the current suite;
- `rubric`: the levels; `report`: the score as data; `formats`, `badge`: its outputs.
"""
