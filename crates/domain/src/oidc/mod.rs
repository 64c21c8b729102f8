//! The protocol rules of ScaiKey as an OpenID Connect provider (contract §8): the authorization
//! request's checks, PKCE, redirect matching, the life of codes and refresh tokens, who may sign
//! in, and the claims of each scope. Pure functions over values; the app services run them and
//! the adapters only parse and render. [`signing_key`] schedules the keys that sign tokens.

pub mod authorize;
pub mod claims;
pub mod grant;
pub mod interaction;
pub mod pkce;
pub mod redirect;
pub mod refresh_handle;
pub mod signin;
pub mod signing_key;
