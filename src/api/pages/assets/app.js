// The pages' only script: buttons and forms call the JSON API, the status refreshes in place.
'use strict';

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const error = new Error((data.error && data.error.message) || `HTTP ${res.status}`);
    error.code = data.error && data.error.code;
    throw error;
  }
  return data;
}

function scopeOf(el) {
  return el.closest('section') || document;
}

function showError(el, error) {
  const box = scopeOf(el).querySelector('[data-error]');
  if (!box) return;
  box.textContent = String(error.message || error);
  box.hidden = false;
}

function showNotice(el, text) {
  const box = scopeOf(el).querySelector('[data-notice]');
  if (!box) return;
  box.textContent = text;
  box.hidden = false;
}

// Never rejects (a failure is shown next to the element), so event handlers fire and forget it.
async function busy(el, work) {
  const button = el.tagName === 'FORM' ? el.querySelector('button[type=submit]') : el;
  const label = button && button.textContent;
  if (button) {
    button.disabled = true;
    if (el.dataset.busy) button.textContent = el.dataset.busy;
  }
  const box = scopeOf(el).querySelector('[data-error]');
  if (box) box.hidden = true;
  try {
    await work();
  } catch (error) {
    showError(el, error);
  } finally {
    if (button) {
      button.disabled = false;
      button.textContent = label;
    }
  }
}

function settingsFrom(form) {
  const body = { syncFrom: form.elements.syncFrom.value };
  const zone = form.elements.timeZone && form.elements.timeZone.value;
  if (zone) body.timeZone = zone;
  if (form.elements.probativeCopies) body.probativeCopies = form.elements.probativeCopies.checked;
  return body;
}

const panels = new Map();

// Never rejects, and schedules the next refresh itself: callers fire and forget it.
async function refresh(container) {
  try {
    const res = await fetch(container.dataset.panel, { credentials: 'same-origin', headers: { accept: 'text/html' } });
    if (res.ok) {
      const html = await res.text();
      // Replaced only when something changed, so focus and screen readers are left alone otherwise.
      if (html !== panels.get(container)) {
        panels.set(container, html);
        // A list the reader opened stays open across refreshes.
        const opened = [...container.querySelectorAll('details[data-keep-open][open]')].map((d) => d.dataset.keepOpen);
        container.innerHTML = html;
        for (const d of container.querySelectorAll('details[data-keep-open]')) if (opened.includes(d.dataset.keepOpen)) d.open = true;
      }
    }
  } catch {
    // offline for a moment: try again at the next tick
  }
  schedule(container);
}

function schedule(container) {
  const panel = container.querySelector('.panel');
  const seconds = Number(panel && panel.dataset.refreshSeconds) || 0;
  if (seconds > 0) setTimeout(() => void refresh(container), seconds * 1000);
}

document.addEventListener('click', (event) => {
  const el = event.target.closest('[data-action]');
  if (!el || el.tagName === 'FORM') return;
  const id = el.dataset.id;
  if (el.dataset.action === 'connect') {
    void busy(el, async () => {
      try {
        const { authorizationUrl } = await api('POST', '/api/integrations');
        window.location.assign(authorizationUrl);
      } catch (error) {
        // OAuth mode: each Connect takes the tokens of a fresh Qonto sign-in; get one, then click again.
        if (error.code === 'qonto_sign_in_needed') window.location.assign('/auth/qonto/login');
        else throw error;
      }
    });
  } else if (el.dataset.action === 'sync') {
    void busy(el, async () => {
      await api('POST', `/api/integrations/${id}/sync`);
      showNotice(el, scopeOf(el).querySelector('[data-notice]').dataset.syncText);
      const container = scopeOf(el).querySelector('[data-panel]');
      if (container) void refresh(container);
    });
  } else if (el.dataset.action === 'withdraw') {
    scopeOf(el).querySelector('dialog').showModal();
  }
});

document.addEventListener('close', (event) => {
  const dialog = event.target;
  if (!(dialog instanceof HTMLDialogElement) || dialog.returnValue !== 'confirm') return;
  const button = dialog.querySelector('[data-confirm-withdraw]');
  const trigger = scopeOf(dialog).querySelector('[data-action=withdraw]');
  void busy(trigger, async () => {
    await api('POST', `/api/integrations/${button.dataset.confirmWithdraw}/revoke`);
    window.location.assign('/');
  });
}, true);

document.addEventListener('submit', (event) => {
  const form = event.target.closest('form[data-action]');
  if (!form) return;
  event.preventDefault();
  const id = form.dataset.id;
  if (form.dataset.action === 'finish') {
    void busy(form, async () => {
      await api('POST', `/api/integrations/${id}/finish`, settingsFrom(form));
      window.location.assign('/');
    });
  } else if (form.dataset.action === 'reconfigure') {
    void busy(form, async () => {
      await api('PATCH', `/api/integrations/${id}`, settingsFrom(form));
      showNotice(form, scopeOf(form).querySelector('[data-notice]').dataset.reconfigureText);
      const container = scopeOf(form).querySelector('[data-panel]');
      if (container) void refresh(container);
    });
  }
});

document.addEventListener('DOMContentLoaded', () => {
  for (const container of document.querySelectorAll('[data-panel]')) schedule(container);
});
