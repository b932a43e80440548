//! Peering Manager's choice sets (spec §1.3).

use crate::model::{Choice, c};

pub const GROUP_STATUS: &[Choice] = &[
    c("enabled", "Enabled"),
    c("pre-maintenance", "Pre-maintenance"),
    c("maintenance", "Maintenance"),
    c("post-maintenance", "Post-maintenance"),
    c("disabled", "Disabled"),
];

pub const SESSION_STATUS: &[Choice] = &[
    c("requested", "Requested"),
    c("provisioning", "Provisioning"),
    c("enabled", "Enabled"),
    c("pre-maintenance", "Pre-maintenance"),
    c("maintenance", "Maintenance"),
    c("post-maintenance", "Post-maintenance"),
    c("disabled", "Disabled"),
    c("decommissioning", "Decommissioning"),
    c("decommissioned", "Decommissioned"),
];

pub const BGP_STATE: &[Choice] = &[
    c("idle", "Idle"),
    c("connect", "Connect"),
    c("active", "Active"),
    c("opensent", "OpenSent"),
    c("openconfirm", "OpenConfirm"),
    c("established", "Established"),
];

pub const IP_FAMILY: &[(i64, &str)] = &[(0, "All"), (4, "IPv4"), (6, "IPv6")];

pub const ROUTING_POLICY_TYPE: &[Choice] =
    &[c("export-policy", "Export"), c("import-policy", "Import"), c("import-export-policy", "Import+Export")];

pub const COMMUNITY_TYPE: &[Choice] = &[c("egress", "Egress"), c("ingress", "Ingress")];

pub const PASSWORD_ALGORITHM: &[Choice] =
    &[c("arista-type7", "Arista Type 7"), c("cisco-type7", "Cisco Type 7"), c("juniper-type9", "Juniper Type 9")];

pub const JOB_STATUS: &[Choice] = &[
    c("pending", "Pending"),
    c("scheduled", "Scheduled"),
    c("running", "Running"),
    c("completed", "Completed"),
    c("errored", "Errored"),
    c("failed", "Failed"),
];

pub const OBJECT_CHANGE_ACTION: &[Choice] = &[c("create", "Created"), c("update", "Updated"), c("delete", "Deleted")];

pub const HTTP_METHOD: &[Choice] =
    &[c("GET", "GET"), c("POST", "POST"), c("PUT", "PUT"), c("PATCH", "PATCH"), c("DELETE", "DELETE")];

pub const JOURNAL_KIND: &[Choice] =
    &[c("info", "Info"), c("success", "Success"), c("warning", "Warning"), c("danger", "Danger")];

pub fn label(choices: &[Choice], value: &str) -> Option<&'static str> {
    choices.iter().find(|c| c.value == value).map(|c| c.label)
}
