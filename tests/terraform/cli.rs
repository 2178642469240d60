//! The command line's contract for plans: exit codes, refusals that say what the file is, the
//! flags that conflict, and no sign-in for a plan that declares everything.

use predicates::prelude::*;

use super::*;

fn check(plan: &str) -> assert_cmd::assert::Assert {
    cmk()
        .args(["check", "--terraform-plan", plan, "--offline", "--now", NOW])
        .assert()
}

#[test]
fn cli_contract_for_plans() {
    check("fixtures/terraform/clean.json")
        .code(0)
        .stdout(predicate::str::contains(common::summary(
            0,
            0,
            0,
            common::state_rules(),
        )));
    check("fixtures/terraform/fail/CMK004-purge-protection-absent.json")
        .code(1)
        .stdout(predicate::str::contains(
            "CMK004(purge-protection-disabled)",
        ))
        .stdout(predicate::str::contains(
            "set `purge_protection_enabled = true`",
        ));
    check("fixtures/terraform/no-cmk-cluster.json")
        .code(0)
        .stderr(predicate::str::contains(
            "note: cluster `module.db.azapi_resource.analytics` does not use a customer-managed key: skipped",
        ))
        .stderr(predicate::str::contains(
            "`module.db.azurerm_cosmosdb_postgresql_cluster.legacy` has no customer-managed-key arguments",
        ));
    check("fixtures/terraform/delete-only.json")
        .code(0)
        .stderr(predicate::str::contains(
            "cluster `module.db.azapi_resource.old` is only deleted by this plan: skipped",
        ));
    check("fixtures/terraform/no-cluster.json")
        .code(2)
        .stderr(predicate::str::contains("plans no Azure Cosmos DB for"));
    // CMK015 is a warning: exit 0 unless warnings fail the run.
    check("fixtures/terraform/fail/CMK015-expires-in-ten-days.json").code(0);
    cmk()
        .args(["check", "--terraform-plan"])
        .arg("fixtures/terraform/fail/CMK015-expires-in-ten-days.json")
        .args(["--offline", "--now", NOW, "--fail-on", "warning"])
        .assert()
        .code(1);
}

#[test]
fn a_file_that_is_not_a_plan_says_what_it_is() {
    check("fixtures/terraform/format-version-2.json")
        .code(2)
        .stderr(predicate::str::contains("is a plan of format version"))
        .stderr(predicate::str::contains("which cmk-check does not read"));
    check("fixtures/terraform/malformed.json")
        .code(2)
        .stderr(predicate::str::contains("is not valid JSON"));
    check("fixtures/terraform/pulumi-preview.json")
        .code(2)
        .stderr(predicate::str::contains("is not a Terraform plan"))
        .stderr(predicate::str::contains("it is a Pulumi preview"));
    // The command in the help is one line, whole, longer than miette's default width of 80.
    cmk()
        .args([
            "check",
            "--terraform-plan",
            "fixtures/clean.json",
            "--offline",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("it is a cmk-check snapshot"))
        .stderr(predicate::str::contains(
            "`terraform plan -out tfplan && terraform show -json tfplan > plan.json`",
        ));
    check("fixtures/templates/clean.json")
        .code(2)
        .stderr(predicate::str::contains("it is an ARM deployment template"));
}

#[test]
fn plans_conflict_with_the_other_inputs() {
    for other in [
        ["--template", "fixtures/templates/clean.json"],
        ["--snapshot", "fixtures/clean.json"],
        ["--key", "https://kv-cmk-prod.vault.azure.net/keys/cmk-citus"],
        ["--cluster", "/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/serverGroupsv2/c"],
    ] {
        cmk()
            .args(["check", "--terraform-plan", "fixtures/terraform/clean.json"])
            .args(other)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("cannot be used with"));
    }
    cmk()
        .args(["check", "--terraform-dir", "fixtures/terraform/hcl"])
        .assert()
        .code(2);
}

#[test]
fn terraform_dir_names_where_the_tf_files_are() {
    // The plan away from its `.tf` files: labels stay in the plan unless the directory is given.
    let dir = std::env::temp_dir().join(format!("cmk-check-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plan = dir.join("plan.json");
    std::fs::copy(plans().join("hcl/plan.json"), &plan).unwrap();
    cmk()
        .args(["check", "--terraform-plan"])
        .arg(&plan)
        .args(["--offline", "--now", NOW])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("plan.json:"));
    cmk()
        .args(["check", "--terraform-plan"])
        .arg(&plan)
        .args(["--terraform-dir", "fixtures/terraform/hcl"])
        .args(["--offline", "--now", NOW])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "fixtures/terraform/hcl/modules/cmk/main.tf:19:35",
        ));
}

#[test]
fn a_plan_that_declares_everything_needs_no_sign_in() {
    let run = |plan: &str| {
        cmk()
            .env_remove("CMK_CHECK_ACCESS_TOKEN")
            // Nothing listens there: a read would fail, not reach Azure.
            .env("CMK_CHECK_ARM_ENDPOINT", "http://127.0.0.1:9")
            .args(["check", "--terraform-plan", plan])
            .args(["--auth", "access-token", "--now", NOW])
            .assert()
    };
    run("fixtures/terraform/clean.json").code(0);
    // What it only references is read, and so needs the token.
    run("fixtures/terraform/data-sources.json")
        .code(2)
        .stderr(predicate::str::contains("could not sign in to Azure"));
}
