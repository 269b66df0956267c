-- authenticate_credential(hash, now): who a session cookie or API token belongs to.
--
-- Owned by oncall-service (it owns users and auth_credentials), called by every
-- service to check a caller: this function is the one way other services read
-- credentials, so none of them reads the tables themselves.
--
-- A row comes back only while all of these hold; otherwise none, and the
-- caller answers 401:
--   the credential's hash is known, it is not revoked, not expired,
--   and its user is not disabled.
-- Logging out, revoking a token and disabling a user therefore take effect on
-- the next lookup of every service; callers cache an answer for at most
-- AUTH_CACHE_SECONDS (2 s by default, within the 5 s promised).
--
-- last_used_at is written at most once a minute per credential, so a busy
-- script's token does not turn every read into a write.
CREATE OR REPLACE FUNCTION authenticate_credential(p_hash text, p_now timestamptz)
RETURNS TABLE (credential_id uuid, kind text, user_id uuid, name text, email text, role text)
LANGUAGE sql VOLATILE AS $$
    WITH found AS (
        SELECT c.id, c.kind, c.last_used_at, u.id AS uid, u.name, u.email, u.role
          FROM auth_credentials c
          JOIN users u ON u.id = c.user_id
         WHERE c.secret_hash = p_hash
           AND c.revoked_at IS NULL
           AND (c.expires_at IS NULL OR c.expires_at > p_now)
           AND NOT u.disabled
    ), touched AS (
        UPDATE auth_credentials SET last_used_at = p_now
         WHERE id IN (SELECT id FROM found WHERE last_used_at IS NULL OR last_used_at < p_now - interval '1 minute')
    )
    SELECT id, kind::text, uid, name::text, email::text, role::text FROM found
$$;

-- acting_user(user_id): the user, as they are now, if they may still act: a
-- responder or admin who is not disabled. For credentials that name a user
-- without being looked up above (the signed links in pages): a link sent
-- before its user was disabled or made a viewer acts no more.
CREATE OR REPLACE FUNCTION acting_user(p_user_id uuid)
RETURNS TABLE (user_id uuid, name text, role text)
LANGUAGE sql STABLE AS $$
    SELECT id, name::text, role::text FROM users
     WHERE id = p_user_id AND NOT disabled AND role IN ('responder', 'admin')
$$;
