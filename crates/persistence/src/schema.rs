//! Diesel table definitions, kept by hand in step with `migrations/` (a persistence test
//! compares them with the migrated database's catalogue).

diesel::table! {
    partners (id) {
        id -> Uuid,
        name -> Text,
        slug -> Text,
        status -> Text,
        contact_email -> Nullable<Text>,
        max_tenants -> Nullable<Int4>,
        max_users_per_tenant -> Nullable<Int4>,
        max_applications_per_tenant -> Nullable<Int4>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    tenants (id) {
        id -> Uuid,
        partner_id -> Nullable<Uuid>,
        name -> Text,
        slug -> Text,
        status -> Text,
        contact_email -> Nullable<Text>,
        settings -> Jsonb,
        branding -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        tenant_id -> Nullable<Uuid>,
        email -> Text,
        password_hash -> Nullable<Text>,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        display_name -> Nullable<Text>,
        status -> Text,
        roles -> Array<Text>,
        custom_attributes -> Jsonb,
        mfa_enabled -> Bool,
        last_login_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        mfa_methods -> Array<Text>,
        email_verified -> Bool,
    }
}

diesel::table! {
    mfa_totp (user_id) {
        user_id -> Uuid,
        secret -> Bytea,
        last_step -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    mfa_recovery_codes (user_id, code_hmac) {
        user_id -> Uuid,
        code_hmac -> Bytea,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> Int4,
        first_at -> Timestamptz,
        last_at -> Timestamptz,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        tenant_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        expires_at -> Timestamptz,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        revoked_at -> Nullable<Timestamptz>,
        cookie_hmac -> Nullable<Bytea>,
        amr -> Array<Text>,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        public_jwk -> Jsonb,
        private_key_enc -> Bytea,
        created_at -> Timestamptz,
        retired_at -> Nullable<Timestamptz>,
        activates_at -> Timestamptz,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Uuid,
        occurred_at -> Timestamptz,
        actor_type -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        resource_type -> Text,
        resource_id -> Nullable<Text>,
        result -> Text,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        tenant_id -> Nullable<Uuid>,
        partner_id -> Nullable<Uuid>,
        details -> Jsonb,
    }
}

diesel::joinable!(tenants -> partners (partner_id));
diesel::joinable!(users -> tenants (tenant_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(sessions -> tenants (tenant_id));

diesel::table! {
    groups (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        name -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    group_members (group_id, user_id) {
        group_id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    group_nesting (parent_id, child_id) {
        parent_id -> Uuid,
        child_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(groups -> tenants (tenant_id));
diesel::joinable!(identity_providers -> tenants (tenant_id));
diesel::joinable!(agents -> tenants (tenant_id));
diesel::joinable!(application_assignments -> tenants (tenant_id));
diesel::joinable!(registration_requests -> tenants (tenant_id));
diesel::joinable!(group_members -> users (user_id));
diesel::joinable!(group_members -> groups (group_id));

diesel::table! {
    applications (id) {
        id -> Uuid,
        client_id -> Text,
        client_secret_hmac -> Nullable<Bytea>,
        name -> Text,
        description -> Nullable<Text>,
        application_type -> Text,
        scope -> Text,
        partner_id -> Nullable<Uuid>,
        tenant_id -> Nullable<Uuid>,
        redirect_uris -> Array<Text>,
        post_logout_redirect_uris -> Array<Text>,
        allowed_origins -> Array<Text>,
        allowed_scopes -> Array<Text>,
        grant_types -> Array<Text>,
        token_lifetime -> Int4,
        token_exchange_allowed -> Bool,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        allowed_resources -> Array<Text>,
        assignment_required -> Bool,
        first_party -> Bool,
        id_token_signed_response_alg -> Text,
    }
}

diesel::table! {
    application_assignments (id) {
        id -> Uuid,
        application_id -> Uuid,
        user_id -> Nullable<Uuid>,
        group_id -> Nullable<Uuid>,
        tenant_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    /// Effective users per application, kept by the triggers of migration 21 (read with SQL).
    application_users (application_id, user_id) {
        application_id -> Uuid,
        user_id -> Uuid,
        tenant_id -> Uuid,
        partner_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    registration_requests (id) {
        id -> Uuid,
        scope -> Text,
        partner_id -> Nullable<Uuid>,
        tenant_id -> Nullable<Uuid>,
        name -> Text,
        description -> Nullable<Text>,
        application_type -> Text,
        redirect_uris -> Array<Text>,
        post_logout_redirect_uris -> Array<Text>,
        allowed_origins -> Array<Text>,
        requested_scopes -> Array<Text>,
        grant_types -> Array<Text>,
        contact_email -> Text,
        contact_name -> Nullable<Text>,
        organization_name -> Nullable<Text>,
        website_url -> Nullable<Text>,
        status -> Text,
        created_by -> Nullable<Text>,
        reviewed_by -> Nullable<Text>,
        reviewed_at -> Nullable<Timestamptz>,
        review_notes -> Nullable<Text>,
        rejection_reason -> Nullable<Text>,
        application_id -> Nullable<Uuid>,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        requested_resources -> Array<Text>,
    }
}

diesel::table! {
    /// Live users per tenant (nil UUID: platform users), kept by triggers on `users`.
    user_counts (tenant_key) {
        tenant_key -> Uuid,
        live -> Int8,
        version -> Int8,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    partners,
    tenants,
    users,
    sessions,
    groups,
    group_members,
    group_nesting,
    applications,
    application_assignments,
    registration_requests,
    audit_events,
    identity_providers,
    agents,
);

diesel::table! {
    identity_providers (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        name -> Text,
        protocol -> Text,
        enabled -> Bool,
        issuer -> Nullable<Text>,
        client_id -> Nullable<Text>,
        client_secret_enc -> Nullable<Bytea>,
        scopes -> Array<Text>,
        entity_id -> Nullable<Text>,
        sso_url -> Nullable<Text>,
        certificate -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        jit_provisioning -> Bool,
        attribute_mapping -> Jsonb,
    }
}

diesel::table! {
    federated_identities (idp_id, subject) {
        idp_id -> Uuid,
        subject -> Text,
        user_id -> Uuid,
        email -> Nullable<Text>,
        created_at -> Timestamptz,
        last_login_at -> Timestamptz,
    }
}

diesel::table! {
    federation_states (state_hmac) {
        state_hmac -> Bytea,
        idp_id -> Uuid,
        binding_hmac -> Bytea,
        nonce -> Text,
        code_verifier -> Text,
        interaction -> Text,
        ip -> Nullable<Text>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        identity -> Nullable<Jsonb>,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    saml_assertions (idp_id, assertion_id) {
        idp_id -> Uuid,
        assertion_id -> Text,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    agents (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        name -> Text,
        description -> Nullable<Text>,
        allowed_tools -> Array<Text>,
        allowed_scopes -> Array<Text>,
        rate_limit_rpm -> Nullable<Int4>,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        client_id -> Nullable<Text>,
        secret_digest -> Nullable<Bytea>,
    }
}

diesel::table! {
    authorization_codes (code_hmac) {
        code_hmac -> Bytea,
        application_id -> Uuid,
        client_id -> Text,
        user_id -> Uuid,
        session_id -> Uuid,
        redirect_uri -> Text,
        scopes -> Array<Text>,
        resource -> Nullable<Text>,
        nonce -> Nullable<Text>,
        code_challenge -> Nullable<Text>,
        auth_time -> Timestamptz,
        amr -> Array<Text>,
        issued_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        family_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        legacy_hmac -> Nullable<Bytea>,
        family_id -> Uuid,
        application_id -> Uuid,
        client_id -> Text,
        user_id -> Uuid,
        session_id -> Nullable<Uuid>,
        scopes -> Array<Text>,
        resource -> Nullable<Text>,
        auth_time -> Timestamptz,
        amr -> Array<Text>,
        issued_at -> Timestamptz,
        expires_at -> Timestamptz,
        rotated_at -> Nullable<Timestamptz>,
        grace_used -> Bool,
        revoked_at -> Nullable<Timestamptz>,
        current_hmac -> Nullable<Bytea>,
        previous_hmac -> Nullable<Bytea>,
    }
}

diesel::table! {
    consents (user_id, application_id) {
        user_id -> Uuid,
        application_id -> Uuid,
        scopes -> Array<Text>,
        granted_at -> Timestamptz,
    }
}

diesel::joinable!(consents -> applications (application_id));
diesel::allow_tables_to_appear_in_same_query!(consents, applications);
diesel::allow_tables_to_appear_in_same_query!(refresh_tokens, sessions);
diesel::allow_tables_to_appear_in_same_query!(refresh_tokens, users);
diesel::allow_tables_to_appear_in_same_query!(refresh_tokens, tenants);
diesel::allow_tables_to_appear_in_same_query!(refresh_tokens, partners);
diesel::allow_tables_to_appear_in_same_query!(authorization_codes, sessions);
diesel::allow_tables_to_appear_in_same_query!(authorization_codes, users);
diesel::allow_tables_to_appear_in_same_query!(authorization_codes, tenants);
diesel::allow_tables_to_appear_in_same_query!(authorization_codes, partners);

diesel::table! {
    token_cutoffs (owner) {
        owner -> Text,
        cutoff_at -> Timestamptz,
        blocked -> Bool,
        changed_at -> Timestamptz,
    }
}

diesel::table! {
    mail_links (token_hmac) {
        token_hmac -> Bytea,
        user_id -> Uuid,
        purpose -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(mail_links -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(mail_links, users);

diesel::table! {
    mfa_passkeys (id) {
        id -> Uuid,
        user_id -> Uuid,
        name -> Text,
        credential_id -> Bytea,
        credential -> Text,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    passkey_challenges (id) {
        id -> Uuid,
        user_id -> Uuid,
        purpose -> Text,
        state -> Text,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    agent_call_windows (agent_id, window_start) {
        agent_id -> Uuid,
        window_start -> Timestamptz,
        calls -> Int4,
    }
}

diesel::table! {
    dynamic_clients (registration_id) {
        registration_id -> Uuid,
        client_id -> Text,
        token_digest -> Bytea,
        created_ip -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(federated_identities -> users (user_id));
diesel::joinable!(federated_identities -> identity_providers (idp_id));
diesel::allow_tables_to_appear_in_same_query!(federated_identities, users);
diesel::allow_tables_to_appear_in_same_query!(federated_identities, identity_providers);
diesel::allow_tables_to_appear_in_same_query!(federated_identities, tenants);
