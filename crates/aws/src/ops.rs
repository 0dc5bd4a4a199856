//! The names of the AWS actions Mayfly calls, in IAM policy spelling (`iam:CreateUser`).
//!
//! One spelling everywhere: it names the action in [`crate::AwsError::AccessDenied`] (so an
//! operator can grant exactly what is missing), in retry logs, and in the fakes' call counters
//! and fault injection, so a test can say `fake.fail_next(ops::CREATE_USER, ...)` and a typo is
//! caught at compile time rather than silently never matching.

pub const CREATE_USER: &str = "iam:CreateUser";
pub const GET_USER: &str = "iam:GetUser";
pub const LIST_USERS: &str = "iam:ListUsers";
pub const LIST_USER_TAGS: &str = "iam:ListUserTags";
pub const ATTACH_USER_POLICY: &str = "iam:AttachUserPolicy";
pub const PUT_USER_POLICY: &str = "iam:PutUserPolicy";
pub const ADD_USER_TO_GROUP: &str = "iam:AddUserToGroup";
pub const CREATE_LOGIN_PROFILE: &str = "iam:CreateLoginProfile";
pub const CREATE_ACCESS_KEY: &str = "iam:CreateAccessKey";
pub const DELETE_LOGIN_PROFILE: &str = "iam:DeleteLoginProfile";
pub const LIST_ACCESS_KEYS: &str = "iam:ListAccessKeys";
pub const DELETE_ACCESS_KEY: &str = "iam:DeleteAccessKey";
pub const LIST_MFA_DEVICES: &str = "iam:ListMFADevices";
pub const DEACTIVATE_MFA_DEVICE: &str = "iam:DeactivateMFADevice";
pub const DELETE_VIRTUAL_MFA_DEVICE: &str = "iam:DeleteVirtualMFADevice";
pub const LIST_SIGNING_CERTIFICATES: &str = "iam:ListSigningCertificates";
pub const DELETE_SIGNING_CERTIFICATE: &str = "iam:DeleteSigningCertificate";
pub const LIST_SSH_PUBLIC_KEYS: &str = "iam:ListSSHPublicKeys";
pub const DELETE_SSH_PUBLIC_KEY: &str = "iam:DeleteSSHPublicKey";
pub const LIST_SERVICE_SPECIFIC_CREDENTIALS: &str = "iam:ListServiceSpecificCredentials";
pub const DELETE_SERVICE_SPECIFIC_CREDENTIAL: &str = "iam:DeleteServiceSpecificCredential";
pub const LIST_ATTACHED_USER_POLICIES: &str = "iam:ListAttachedUserPolicies";
pub const DETACH_USER_POLICY: &str = "iam:DetachUserPolicy";
pub const LIST_USER_POLICIES: &str = "iam:ListUserPolicies";
pub const DELETE_USER_POLICY: &str = "iam:DeleteUserPolicy";
pub const GET_USER_POLICY: &str = "iam:GetUserPolicy";
pub const LIST_GROUPS_FOR_USER: &str = "iam:ListGroupsForUser";
pub const REMOVE_USER_FROM_GROUP: &str = "iam:RemoveUserFromGroup";
pub const DELETE_USER: &str = "iam:DeleteUser";
pub const GET_ROLE_POLICY: &str = "iam:GetRolePolicy";
pub const PUT_ROLE_POLICY: &str = "iam:PutRolePolicy";
pub const DELETE_ROLE_POLICY: &str = "iam:DeleteRolePolicy";

pub const ASSUME_ROLE: &str = "sts:AssumeRole";
pub const GET_FEDERATION_TOKEN: &str = "sts:GetFederationToken";
pub const GET_SESSION_TOKEN: &str = "sts:GetSessionToken";
pub const GET_CALLER_IDENTITY: &str = "sts:GetCallerIdentity";

/// Whether `op` only reads (`Get*`, `List*`): AWS throttles reads far less than writes, so
/// the governor paces them apart.
pub fn is_read(op: &str) -> bool {
    let action = op.split_once(':').map_or(op, |(_, action)| action);
    action.starts_with("Get") || action.starts_with("List")
}

/// Every IAM action of [`crate::IamApi`], one per trait method.
pub const IAM_OPS: &[&str] = &[
    CREATE_USER,
    GET_USER,
    LIST_USERS,
    LIST_USER_TAGS,
    ATTACH_USER_POLICY,
    PUT_USER_POLICY,
    ADD_USER_TO_GROUP,
    CREATE_LOGIN_PROFILE,
    CREATE_ACCESS_KEY,
    DELETE_LOGIN_PROFILE,
    LIST_ACCESS_KEYS,
    DELETE_ACCESS_KEY,
    LIST_MFA_DEVICES,
    DEACTIVATE_MFA_DEVICE,
    DELETE_VIRTUAL_MFA_DEVICE,
    LIST_SIGNING_CERTIFICATES,
    DELETE_SIGNING_CERTIFICATE,
    LIST_SSH_PUBLIC_KEYS,
    DELETE_SSH_PUBLIC_KEY,
    LIST_SERVICE_SPECIFIC_CREDENTIALS,
    DELETE_SERVICE_SPECIFIC_CREDENTIAL,
    LIST_ATTACHED_USER_POLICIES,
    DETACH_USER_POLICY,
    LIST_USER_POLICIES,
    DELETE_USER_POLICY,
    GET_USER_POLICY,
    LIST_GROUPS_FOR_USER,
    REMOVE_USER_FROM_GROUP,
    DELETE_USER,
    GET_ROLE_POLICY,
    PUT_ROLE_POLICY,
    DELETE_ROLE_POLICY,
];

/// Every STS action of [`crate::StsApi`], one per trait method.
pub const STS_OPS: &[&str] = &[
    ASSUME_ROLE,
    GET_FEDERATION_TOKEN,
    GET_SESSION_TOKEN,
    GET_CALLER_IDENTITY,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_the_get_and_list_actions() {
        let reads: Vec<&str> = IAM_OPS.iter().copied().filter(|op| is_read(op)).collect();
        assert!(reads.contains(&LIST_ACCESS_KEYS) && reads.contains(&GET_USER_POLICY));
        for write in [
            CREATE_USER,
            DELETE_USER,
            PUT_ROLE_POLICY,
            ADD_USER_TO_GROUP,
            DETACH_USER_POLICY,
        ] {
            assert!(!is_read(write), "{write} is a write");
        }
        assert!(is_read(GET_CALLER_IDENTITY));
        assert!(!is_read(ASSUME_ROLE));
    }
}
