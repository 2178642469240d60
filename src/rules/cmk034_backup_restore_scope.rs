use crate::azure::docs;
use crate::lint::{Check, Input, KeyFileContext, Level, Outcome, Rule, Violation};
use crate::model::key_file::{BackupKind, Contents, BACKUP_FORMAT};

pub static RULE: Rule = Rule {
    code: "CMK034",
    name: "backup-restore-scope",
    default_level: Level::Warn,
    summary: "A key backup is restored into a vault of its subscription and Azure geography",
    doc: include_str!("../../rules/CMK034.md"),
    url: docs::SECURITY_WORLDS,
    reads: &[],
    breakable_in: &[Input::KeyFile],
    check: Check::KeyFile(check),
};

/// A backup names neither its subscription nor its geography, and a vault's resource ID or URI
/// does not name its region: offline, the scope of a restore can only be pointed out.
fn check(cx: &KeyFileContext<'_>) -> Outcome {
    let Contents::Backup(backup) = &cx.file.contents else {
        return Ok(Vec::new());
    };
    if backup.kind != BackupKind::Key {
        return Ok(Vec::new());
    }
    let path = &cx.file.path;
    let (message, command) = match &cx.file.target {
        Some(target) => (
            format!("could not verify that vault `{}` is in the subscription and Azure geography `{path}` was backed up in: a backup does not say where it was taken", target.name),
            format!("az keyvault show --name {} --query \"{{id: id, location: location}}\"", target.name),
        ),
        None => (
            format!("could not verify where `{path}` can be restored: give the vault with `--vault`; a backup restores only in the subscription and Azure geography it was taken in"),
            "az keyvault show --name <vault> --query \"{id: id, location: location}\"".to_string(),
        ),
    };
    Ok(vec![Violation::at(cx.at(BACKUP_FORMAT))
        .unverified()
        .message(message)
        .label("restores only in its subscription and geography")
        .help(format!("compare the target vault's subscription and region with the source vault's (regions of one geography, such as West Europe and North Europe, share an HSM security world): `{command}`"))
        .caused_by(format!("`{path}` does not say where it was taken"))])
}
