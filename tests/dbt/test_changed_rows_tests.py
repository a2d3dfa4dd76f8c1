"""A build's data tests follow its increment (issue 32): the tests of the large incremental tables
check the rows this build wrote (dbt's `where`, against the build's start); a var, and `dbt test`
alone, check every row."""

from __future__ import annotations

import duckdb

from tests.dbt.conftest import DbtProject, assert_all_passed, statuses, write_transcripts

VARS = {"poll_interval_s": 0.05}
MODE_TEST = "accepted_values_fct_bedrock_results_inference_mode__batch__on_demand"


def test_a_rebuild_tests_the_rows_it_wrote_and_the_var_or_dbt_test_check_every_row(
        dbt_project: DbtProject) -> None:
    write_transcripts(dbt_project, rows=120)
    assert_all_passed(dbt_project.dbt(["build"], **VARS))
    # A row an earlier build wrote, damaged since (as a bad manual edit would): no build rewrites it.
    with duckdb.connect(str(dbt_project.database)) as con:
        con.execute("update fct_bedrock_results set inference_mode = 'bogus' "
                    "where input_row_id = (select min(input_row_id) from fct_bedrock_results)")

    assert_all_passed(dbt_project.dbt(["build"], **VARS))  # its tests read only what it wrote: none of it
    assert dbt_project.query("select count(*) from fct_bedrock_results where inference_mode = 'bogus'") == [(1,)]

    full = dbt_project.dbt(["build"], **VARS, bedrock_ext_full_data_tests=True)
    assert statuses(full)[MODE_TEST] == "fail"
    alone = dbt_project.dbt(["test", "--select", "fct_bedrock_results"], **VARS)
    assert statuses(alone)[MODE_TEST] == "fail"
