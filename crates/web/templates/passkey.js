// Passkeys on ScaiKey's pages (contract §10): a form marked data-passkey="create" or "get"
// carries the server's WebAuthn options in data-options; its data-passkey-start button asks the
// browser for a credential, puts the answer (JSON, binary fields base64url) in the form's
// passkey_response field and submits the form. Nothing else on the pages needs JavaScript.
'use strict';
(function () {
  function decode(s) {
    const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    return Uint8Array.from(b, (c) => c.charCodeAt(0)).buffer;
  }
  function encode(buf) {
    let s = '';
    for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function withBuffers(list) {
    return (list || []).map((c) => Object.assign({}, c, { id: decode(c.id) }));
  }
  async function create(options) {
    const pk = options.publicKey;
    pk.challenge = decode(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: decode(pk.user.id) });
    pk.excludeCredentials = withBuffers(pk.excludeCredentials);
    const c = await navigator.credentials.create({ publicKey: pk });
    return {
      id: c.id,
      rawId: encode(c.rawId),
      type: c.type,
      extensions: {},
      response: {
        attestationObject: encode(c.response.attestationObject),
        clientDataJSON: encode(c.response.clientDataJSON),
        transports: c.response.getTransports ? c.response.getTransports() : undefined,
      },
    };
  }
  async function get(options) {
    const pk = options.publicKey;
    pk.challenge = decode(pk.challenge);
    pk.allowCredentials = withBuffers(pk.allowCredentials);
    const c = await navigator.credentials.get({ publicKey: pk });
    return {
      id: c.id,
      rawId: encode(c.rawId),
      type: c.type,
      extensions: {},
      response: {
        authenticatorData: encode(c.response.authenticatorData),
        clientDataJSON: encode(c.response.clientDataJSON),
        signature: encode(c.response.signature),
        userHandle: c.response.userHandle ? encode(c.response.userHandle) : null,
      },
    };
  }
  for (const form of document.querySelectorAll('form[data-passkey]')) {
    const button = form.querySelector('[data-passkey-start]');
    const status = form.querySelector('[data-passkey-status]');
    if (!button) continue;
    if (!window.PublicKeyCredential) {
      button.disabled = true;
      if (status) status.textContent = 'This browser cannot use passkeys.';
      continue;
    }
    button.addEventListener('click', async () => {
      button.disabled = true;
      if (status) status.textContent = '';
      try {
        const options = JSON.parse(form.dataset.options);
        const answer = form.dataset.passkey === 'create' ? await create(options) : await get(options);
        form.querySelector('input[name="passkey_response"]').value = JSON.stringify(answer);
        form.submit();
      } catch (e) {
        button.disabled = false;
        if (status) status.textContent = 'No passkey was used. Try again.';
      }
    });
  }
})();
