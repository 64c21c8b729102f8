//! # scaikey-testkit
//!
//! Starts a real ScaiKey for integration tests — ours and other teams' — on a fresh PostgreSQL
//! database cloned from a migrated template, on a free loopback port, with a bootstrapped super
//! admin. Hands out HTTP clients holding tokens of each admin role. Drops the database when the
//! [`TestApp`] goes out of scope.
//!
//! The PostgreSQL server is taken from `SCAIKEY_TEST_DATABASE_URL`, else `DATABASE_URL`, else
//! `postgres://postgres@127.0.0.1:5432/postgres` (any database on the server; only the server
//! part is used). `cargo xtask test` starts a private cluster when none is reachable.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let app = scaikey_testkit::TestApp::spawn().await?;
//! let admin = app.super_admin().await?;
//! let r = admin.post("/api/v1/admin/partners", serde_json::json!({"name": "Acme"})).await?;
//! assert_eq!(r.status, 201);
//! # Ok(()) }
//! ```

mod client;
mod db;
pub mod mail;
pub mod signin;
pub mod tools;

use std::net::SocketAddr;

use anyhow::Context;
pub use client::{ApiClient, Resp};
pub use db::{TestDb, server_url};

/// Password of the bootstrapped super admin.
pub const ADMIN_PASSWORD: &str = "Bootstrap-Passw0rd!";
/// E-mail of the bootstrapped super admin.
pub const ADMIN_EMAIL: &str = "root@scaikey.test";
/// Issuer of the test server's tokens.
pub const ISSUER: &str = "http://scaikey.test";

/// A running ScaiKey on its own database.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The test's database.
    pub db: TestDb,
    /// The master key the server runs with (base64).
    pub master_key: String,
    /// The `iss` of its tokens: [`ISSUER`], or `base_url` for [`TestApp::spawn_discoverable`].
    pub issuer: String,
    env: Vec<(String, String)>,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp").field("base_url", &self.base_url).field("db", &self.db.name).finish()
    }
}

impl TestApp {
    /// Starts ScaiKey with the test defaults.
    pub async fn spawn() -> anyhow::Result<TestApp> {
        Self::spawn_with(&[]).await
    }

    /// Starts ScaiKey with extra `SCAIKEY_*` settings (they override the defaults).
    pub async fn spawn_with(extra: &[(&str, &str)]) -> anyhow::Result<TestApp> {
        Self::start(extra, true).await
    }

    /// Starts ScaiKey whose issuer is its own address (`base_url`), so a stock client that
    /// configures itself from discovery reaches every endpoint it names.
    pub async fn spawn_discoverable(extra: &[(&str, &str)]) -> anyhow::Result<TestApp> {
        Self::start(extra, false).await
    }

    /// Starts ScaiKey whose issuer is `http://localhost:<its port>` (it listens on 127.0.0.1),
    /// for passkeys: a WebAuthn relying-party ID must be a domain name, and a browser treats
    /// `http://localhost` as a secure context. Browsers must map `localhost` to 127.0.0.1.
    pub async fn spawn_on_localhost(extra: &[(&str, &str)]) -> anyhow::Result<TestApp> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let (listen, issuer) = (format!("127.0.0.1:{port}"), format!("http://localhost:{port}"));
        let mut all = vec![("SCAIKEY_LISTEN", listen.as_str()), ("SCAIKEY_ISSUER", issuer.as_str())];
        all.extend_from_slice(extra);
        Self::start(&all, false).await
    }

    async fn start(extra: &[(&str, &str)], fixed_issuer: bool) -> anyhow::Result<TestApp> {
        let db = TestDb::create().await?;
        let master_key = scaikey_crypto::master::MasterKey::generate_base64()?;
        let mut env: Vec<(String, String)> = vec![
            ("SCAIKEY_DATABASE_URL".into(), db.url.clone()),
            ("SCAIKEY_LISTEN".into(), "127.0.0.1:0".into()),
            ("SCAIKEY_MASTER_KEY".into(), master_key.clone()),
            ("SCAIKEY_BOOTSTRAP_ADMIN_EMAIL".into(), ADMIN_EMAIL.into()),
            ("SCAIKEY_BOOTSTRAP_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
            ("SCAIKEY_WORKERS".into(), "1".into()),
            ("SCAIKEY_DB_MAX_CONNECTIONS".into(), "4".into()),
            ("SCAIKEY_LOG".into(), "warn".into()),
        ];
        if fixed_issuer {
            env.push(("SCAIKEY_ISSUER".into(), ISSUER.into()));
        }
        env.extend(extra.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())));
        let settings = scaikey::Settings::load_from(None, env.clone())?;
        let configured = settings.issuer.clone();
        let (addr, handle, thread) = run_server(settings).await?;
        let base_url = format!("http://{addr}");
        let issuer = configured.unwrap_or_else(|| base_url.clone());
        Ok(TestApp { base_url, db, master_key, issuer, env, handle, thread: Some(thread) })
    }

    /// The settings this server runs with (its issuer included), for running a command such as
    /// `scaikey keys rotate` (`scaikey::server::rotate_keys`) against its database.
    pub fn settings(&self) -> anyhow::Result<scaikey::Settings> {
        let mut env = self.env.clone();
        env.push(("SCAIKEY_ISSUER".into(), self.issuer.clone()));
        scaikey::Settings::load_from(None, env)
    }

    /// Starts another ScaiKey on the same database and master key — its own caches, revocation
    /// list and pollers, as a second process of a deployment would have — for tests of what
    /// crosses processes. It stops when dropped.
    pub async fn second_process(&self) -> anyhow::Result<Sibling> {
        let env = [
            ("SCAIKEY_DATABASE_URL", self.db.url.as_str()),
            ("SCAIKEY_LISTEN", "127.0.0.1:0"),
            ("SCAIKEY_LOG", "warn"),
            ("SCAIKEY_ISSUER", self.issuer.as_str()),
            ("SCAIKEY_MASTER_KEY", self.master_key.as_str()),
            ("SCAIKEY_WORKERS", "1"),
            ("SCAIKEY_DB_MAX_CONNECTIONS", "4"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let (addr, handle, thread) = run_server(scaikey::Settings::load_from(None, env)?).await?;
        Ok(Sibling { base_url: format!("http://{addr}"), handle, thread: Some(thread) })
    }

    /// A client without a token.
    #[must_use]
    pub fn anonymous(&self) -> ApiClient {
        ApiClient::new(&self.base_url, None)
    }

    /// A client with a token of the given raw value (for malformed-token tests).
    #[must_use]
    pub fn with_token(&self, token: &str) -> ApiClient {
        ApiClient::new(&self.base_url, Some(token.to_string()))
    }

    /// Logs in and returns a client holding the access token.
    pub async fn login(&self, email: &str, password: &str, tenant_id: Option<&str>) -> anyhow::Result<ApiClient> {
        let mut body = serde_json::json!({"email": email, "password": password});
        if let Some(t) = tenant_id {
            body["tenant_id"] = t.into();
        }
        let r = self.anonymous().post("/api/v1/auth/login", body).await?;
        anyhow::ensure!(r.status == 200, "login of {email} failed: {} {}", r.status, r.body);
        let token = r.body["access_token"].as_str().context("no access_token")?;
        Ok(self.with_token(token))
    }

    /// POSTs a form to `/oauth/token`, with HTTP Basic client credentials when given.
    pub async fn token_request(&self, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> anyhow::Result<Resp> {
        let mut req = reqwest::Client::new()
            .post(format!("{}/oauth/token", self.base_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form)?);
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        Resp::read(req.send().await?).await
    }

    /// A client holding the bootstrapped super admin's token.
    pub async fn super_admin(&self) -> anyhow::Result<ApiClient> {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD, None).await
    }

    /// Creates a user with `roles` in `tenant_id` (a `tnt_…` ID, or `None` for a platform
    /// super admin) through the users API as the super admin, and logs it in.
    pub async fn user_with_roles(
        &self,
        email: &str,
        roles: &[&str],
        tenant_id: Option<&str>,
    ) -> anyhow::Result<ApiClient> {
        let admin = self.super_admin().await?;
        let r = admin
            .post(
                "/api/v1/admin/users",
                serde_json::json!({"email": email, "password": USER_PASSWORD, "roles": roles, "tenant_id": tenant_id}),
            )
            .await?;
        anyhow::ensure!(r.status == 201, "creating {email} failed: {} {}", r.status, r.body);
        self.login(email, USER_PASSWORD, tenant_id).await
    }
}

/// The decoded JOSE header and claims of a JWT (no signature check: tests that need one use a
/// stock library).
pub fn jwt_parts(token: &str) -> anyhow::Result<(serde_json::Value, serde_json::Value)> {
    use base64::Engine;
    let mut parts = token.split('.');
    let mut dec = || -> anyhow::Result<serde_json::Value> {
        let part = parts.next().context("not a JWT")?;
        Ok(serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part)?)?)
    };
    Ok((dec()?, dec()?))
}

/// Password of users made by [`TestApp::user_with_roles`].
pub const USER_PASSWORD: &str = "Us3r-Passw0rd!";

/// A server running on its own actix system thread, independent of the test's runtime.
async fn run_server(
    settings: scaikey::Settings,
) -> anyhow::Result<(SocketAddr, actix_web::dev::ServerHandle, std::thread::JoinHandle<()>)> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match scaikey::start(settings).await {
                Ok(s) => {
                    let _ = tx.send(Ok((s.addr, s.server.handle())));
                    let _ = s.server.await;
                    s.audit.flush().await;
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
    });
    let (addr, handle) = rx.await.context("server thread died")??;
    Ok((addr, handle, thread))
}

/// Stops a server from a plain thread: Drop may run inside the test's runtime.
fn stop_server(handle: actix_web::dev::ServerHandle, thread: Option<std::thread::JoinHandle<()>>) {
    let _ = std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
            rt.block_on(handle.stop(false));
        }
        if let Some(t) = thread {
            let _ = t.join();
        }
    })
    .join();
}

impl Drop for TestApp {
    fn drop(&mut self) {
        stop_server(self.handle.clone(), self.thread.take());
    }
}

/// A second ScaiKey on a [`TestApp`]'s database ([`TestApp::second_process`]).
pub struct Sibling {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Sibling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sibling").field("base_url", &self.base_url).finish()
    }
}

impl Sibling {
    /// A client of this process with a bearer token.
    #[must_use]
    pub fn with_token(&self, token: &str) -> ApiClient {
        ApiClient::new(&self.base_url, Some(token.to_string()))
    }
}

impl Drop for Sibling {
    fn drop(&mut self) {
        stop_server(self.handle.clone(), self.thread.take());
    }
}
