/*! Vetted comment widget. Plain JavaScript: no build step, no dependencies, one request.
 * Mounts on #vetted-comments, .vetted-comments and [data-vetted]; see docs/widget.md. */
(() => {
  'use strict';

  const BODY_MAX = 10000;
  const COUNTER_FROM = 9000;
  const PAGE_SIZE = 20;
  const ARTICLE_KEY = /^[A-Za-z0-9][A-Za-z0-9._~/-]{0,199}$/; // as the API's (service/sites)
  const PENDING_KEPT = 20;
  const FIELDS = ['body', 'name', 'email', 'website']; // in the order the form shows them
  const SCRIPT_PATH = /\/widget(?:\.[\w.-]+)?\.js$/;
  const AUTHOR_KEY = 'vetted:author';
  const MOUNTED = (window.__vettedMounted = window.__vettedMounted || new WeakSet());

  // Captured now: currentScript is only set while this file first runs, and is null for
  // some async loads, so fall back to the <script> whose src looks like ours.
  const SCRIPT = document.currentScript || [...document.scripts].find((s) => {
    try { return Boolean(s.src) && SCRIPT_PATH.test(new URL(s.src, document.baseURI).pathname); } catch { return false; }
  });

  const TEXTS = {
    en: {
      comments: 'Comments', none: 'No comments yet', one: '{n} comment', other: '{n} comments',
      sortBy: 'Sort by', oldest: 'Oldest first', newest: 'Newest first',
      loading: 'Loading comments…', loadFailed: 'The comments could not be loaded.', retry: 'Try again',
      unavailable: 'Comments are not available here.', loadMore: 'Load more comments',
      reply: 'Reply', replyTo: 'Reply to {name}', featured: 'Featured', edited: 'edited',
      awaiting: 'Your comment is awaiting moderation.', anonymous: 'Anonymous', removed: 'This comment was removed.',
      leaveReply: 'Leave a Reply', leaveReplyTo: 'Leave a Reply to {name}', cancelReply: 'Cancel reply',
      emailNote: 'Your email address will not be published.', requiredNote: 'Required fields are marked',
      body: 'Comment', name: 'Name', email: 'Email', website: 'Website', honeypot: 'Leave this field empty',
      save: 'Save my name, email, and website in this browser for the next time I comment.',
      post: 'Post Comment', sending: 'Sending your comment…',
      thanks: 'Thank you! Your comment is awaiting moderation.', published: 'Thank you! Your comment is published.',
      closed: 'Comments are closed.', fixFields: 'Please correct the marked fields.',
      required: 'Please fill in this field.', badEmail: 'Enter a valid email address.',
      badUrl: 'Enter a web address starting with http:// or https://.',
      tooLong: 'Please shorten this to {max} characters or fewer.', tooLarge: 'Your comment is too long.',
      charsLeft: '{n} characters left', charsOver: '{n} characters too many',
      charsLeftOne: '{n} character left', charsOverOne: '{n} character too many',
      tooFast: 'You are commenting too fast. Please wait a moment and try again.',
      retryIn: 'You can try again in {n} seconds.',
      network: 'Your comment could not be sent. Please check your connection and try again.',
      failed: 'Something went wrong. Please try again.',
      wrongOrigin: 'Comments cannot be posted from this page.',
    },
    de: {
      comments: 'Kommentare', none: 'Noch keine Kommentare', one: '{n} Kommentar', other: '{n} Kommentare',
      sortBy: 'Sortieren', oldest: 'Älteste zuerst', newest: 'Neueste zuerst',
      loading: 'Kommentare werden geladen …', loadFailed: 'Die Kommentare konnten nicht geladen werden.',
      retry: 'Erneut versuchen', unavailable: 'Kommentare sind hier nicht verfügbar.',
      loadMore: 'Weitere Kommentare laden',
      reply: 'Antworten', replyTo: 'Antworten an {name}', featured: 'Empfohlen', edited: 'bearbeitet',
      awaiting: 'Dein Kommentar wartet auf Freischaltung.', anonymous: 'Anonym',
      removed: 'Dieser Kommentar wurde entfernt.',
      leaveReply: 'Schreibe einen Kommentar', leaveReplyTo: 'Schreibe eine Antwort an {name}',
      cancelReply: 'Antworten abbrechen',
      emailNote: 'Deine E-Mail-Adresse wird nicht veröffentlicht.', requiredNote: 'Erforderliche Felder sind mit',
      requiredAfter: 'markiert.',
      body: 'Kommentar', name: 'Name', email: 'E-Mail', website: 'Website', honeypot: 'Dieses Feld leer lassen',
      save: 'Meinen Namen, meine E-Mail-Adresse und meine Website in diesem Browser für die nächste Kommentierung speichern.',
      post: 'Kommentar abschicken', sending: 'Dein Kommentar wird gesendet …',
      thanks: 'Danke! Dein Kommentar wartet auf Freischaltung.', published: 'Danke! Dein Kommentar ist veröffentlicht.',
      closed: 'Die Kommentarfunktion ist geschlossen.', fixFields: 'Bitte korrigiere die markierten Felder.',
      required: 'Bitte fülle dieses Feld aus.', badEmail: 'Bitte gib eine gültige E-Mail-Adresse ein.',
      badUrl: 'Bitte gib eine Webadresse ein, die mit http:// oder https:// beginnt.',
      tooLong: 'Bitte kürze auf höchstens {max} Zeichen.', tooLarge: 'Dein Kommentar ist zu lang.',
      charsLeft: 'Noch {n} Zeichen', charsOver: '{n} Zeichen zu viel',
      charsLeftOne: 'Noch {n} Zeichen', charsOverOne: '{n} Zeichen zu viel',
      tooFast: 'Du kommentierst zu schnell. Bitte warte einen Moment und versuche es dann erneut.',
      retryIn: 'In {n} Sekunden geht es wieder.',
      network: 'Dein Kommentar konnte nicht gesendet werden. Bitte prüfe deine Verbindung und versuche es erneut.',
      failed: 'Etwas ist schiefgelaufen. Bitte versuche es erneut.',
      wrongOrigin: 'Von dieser Seite aus können keine Kommentare gesendet werden.',
    },
    fr: {
      comments: 'Commentaires', none: 'Aucun commentaire', one: '{n} commentaire', other: '{n} commentaires',
      sortBy: 'Trier', oldest: 'Les plus anciens d’abord', newest: 'Les plus récents d’abord',
      loading: 'Chargement des commentaires…', loadFailed: 'Impossible de charger les commentaires.',
      retry: 'Réessayer', unavailable: 'Les commentaires ne sont pas disponibles ici.',
      loadMore: 'Afficher plus de commentaires',
      reply: 'Répondre', replyTo: 'Répondre à {name}', featured: 'À la une', edited: 'modifié',
      awaiting: 'Votre commentaire est en attente de modération.', anonymous: 'Anonyme',
      removed: 'Ce commentaire a été supprimé.',
      leaveReply: 'Laisser un commentaire', leaveReplyTo: 'Répondre à {name}', cancelReply: 'Annuler la réponse',
      emailNote: 'Votre adresse e-mail ne sera pas publiée.', requiredNote: 'Les champs obligatoires sont indiqués avec',
      body: 'Commentaire', name: 'Nom', email: 'E-mail', website: 'Site web', honeypot: 'Laissez ce champ vide',
      save: 'Enregistrer mon nom, mon e-mail et mon site dans le navigateur pour mon prochain commentaire.',
      post: 'Publier le commentaire', sending: 'Envoi de votre commentaire…',
      thanks: 'Merci ! Votre commentaire est en attente de modération.',
      published: 'Merci ! Votre commentaire est publié.',
      closed: 'Les commentaires sont fermés.', fixFields: 'Veuillez corriger les champs indiqués.',
      required: 'Veuillez remplir ce champ.', badEmail: 'Saisissez une adresse e-mail valide.',
      badUrl: 'Saisissez une adresse web commençant par http:// ou https://.',
      tooLong: 'Veuillez raccourcir à {max} caractères au plus.', tooLarge: 'Votre commentaire est trop long.',
      charsLeft: '{n} caractères restants', charsOver: '{n} caractères en trop',
      charsLeftOne: '{n} caractère restant', charsOverOne: '{n} caractère en trop',
      tooFast: 'Vous commentez trop vite. Veuillez patienter un instant puis réessayer.',
      retryIn: 'Nouvel essai possible dans {n} secondes.',
      network: 'Votre commentaire n’a pas pu être envoyé. Vérifiez votre connexion et réessayez.',
      failed: 'Une erreur s’est produite. Veuillez réessayer.',
      wrongOrigin: 'Impossible de publier des commentaires depuis cette page.',
    },
  };

  const DARK = '--vt-text:var(--vetted-text,#e4e6e9);--vt-muted:var(--vetted-muted,#a3aab3);' +
    '--vt-bg:var(--vetted-bg,#17191c);--vt-surface:var(--vetted-surface,#202328);' +
    '--vt-soft:var(--vetted-soft,#24282d);--vt-border:var(--vetted-border,#3b4048);' +
    '--vt-accent:var(--vetted-accent,#8ab8f0);--vt-on-accent:var(--vetted-on-accent,#0d1b2b);' +
    '--vt-error:var(--vetted-error,#ff9b90);--vt-pad:var(--vetted-padding,1.25em);color-scheme:dark;';

  const CSS = `
:host{all:initial;display:block;font-family:inherit;font-size:inherit;
--vt-text:var(--vetted-text,#1f2328);--vt-muted:var(--vetted-muted,#5b636d);--vt-bg:var(--vetted-bg,transparent);
--vt-surface:var(--vetted-surface,#fff);--vt-soft:var(--vetted-soft,#f4f5f7);--vt-border:var(--vetted-border,#d3d8de);
--vt-accent:var(--vetted-accent,#0b5cad);--vt-on-accent:var(--vetted-on-accent,#fff);--vt-error:var(--vetted-error,#b42318);
--vt-focus:var(--vetted-focus,var(--vt-accent));--vt-radius:var(--vetted-radius,6px);--vt-pad:var(--vetted-padding,0);--vt-avatar:2.5em;color-scheme:light}
:host([data-theme=dark]){${DARK}}
@media (prefers-color-scheme:dark){:host([data-theme=auto]){${DARK}}}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
.vt{font-family:var(--vetted-font);color:var(--vt-text);background:var(--vt-bg);padding:var(--vt-pad);
border-radius:var(--vt-radius);line-height:1.55;text-align:start;overflow-wrap:anywhere}
button,input,select,textarea{font:inherit;color:inherit;letter-spacing:inherit}
:focus-visible{outline:2px solid var(--vt-focus);outline-offset:2px}
.vt-head{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:.5em 1em;
border-bottom:1px solid var(--vt-border);padding-bottom:.6em;margin-bottom:1.25em}
.vt-count{font-size:1.3em;line-height:1.25;margin:0;font-weight:700}
.vt-sort{font-size:.875em;color:var(--vt-muted)}
.vt-sort select{margin-left:.4em;padding:.2em .4em;border:1px solid var(--vt-border);border-radius:var(--vt-radius);
background:var(--vt-surface);color:var(--vt-text)}
.vt-notice{color:var(--vt-muted);margin:0 0 1em}
.vt-notice button{margin-left:.5em}
ol{list-style:none;margin:0;padding:0}
.vt-comment{margin:0 0 1.5em}
.vt-replies{margin:1em 0 0;margin-inline-start:clamp(.6em,3vw,1.75em);padding-inline-start:clamp(.6em,2vw,1em);
border-inline-start:2px solid var(--vt-border)}
.vt-replies .vt-comment{margin:0 0 1em}
.vt-replies .vt-comment:last-child{margin-bottom:0}
.vt-card{border-radius:var(--vt-radius)}
.vt-card:focus{outline:none}
.vt-card:focus-visible{outline:2px solid var(--vt-focus);outline-offset:4px}
.vt-featured>.vt-card{border-inline-start:3px solid var(--vt-accent);padding-inline-start:.75em}
.vt-removed>.vt-card{color:var(--vt-muted);font-style:italic}
.vt-is-pending>.vt-card{background:var(--vt-soft);padding:.75em;border:1px dashed var(--vt-border)}
.vt-meta{display:flex;align-items:center;flex-wrap:wrap;gap:.15em .6em}
.vt-avatar{width:var(--vt-avatar);height:var(--vt-avatar);border-radius:var(--vt-radius);flex:none;
margin-right:.15em;background:var(--vt-soft)}
.vt-avatar rect{fill:var(--vt-soft)}
.vt-author{font-weight:700;font-size:.925em}
.vt-author a{color:inherit;text-decoration:underline;text-decoration-color:var(--vt-border);text-underline-offset:.15em}
.vt-author a:hover{text-decoration-color:currentColor}
.vt-time,.vt-edited{color:var(--vt-muted);font-size:.85em}
.vt-edited::before{content:"· "}
.vt-badge{font-size:.7em;font-weight:700;letter-spacing:.03em;color:var(--vt-accent);border:1px solid currentColor;
border-radius:99em;padding:0 .6em}
.vt-pending,.vt-content,.vt-actions{margin:.35em 0 0;margin-inline-start:calc(var(--vt-avatar) + .75em)}
.vt-pending{display:block;font-size:.9em;color:var(--vt-muted);margin-inline-start:calc((var(--vt-avatar) + .75em)/.9)}
.vt-content>:first-child{margin-top:0}
.vt-content>:last-child{margin-bottom:0}
.vt-content p,.vt-content ul,.vt-content ol,.vt-content pre,.vt-content blockquote{margin:0 0 .7em}
.vt-content ul,.vt-content ol{padding-inline-start:1.4em}
.vt-content ul{list-style:disc}
.vt-content ol{list-style:decimal}
.vt-content a{color:var(--vt-accent)}
.vt-content blockquote{padding-inline-start:.8em;border-inline-start:3px solid var(--vt-border);color:var(--vt-muted)}
.vt-content code,.vt-content pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
.vt-content pre{overflow:auto;padding:.6em .8em;background:var(--vt-soft);border-radius:var(--vt-radius)}
.vt-content img{max-width:100%;height:auto}
.vt-text{white-space:pre-wrap}
.vt-link{background:none;border:0;padding:.15em 0;color:var(--vt-accent);font-size:.875em;font-weight:600;cursor:pointer;
border-radius:2px}
.vt-link:hover{text-decoration:underline}
.vt-is-closed .vt-reply{display:none}
.vt-button{background:var(--vt-accent);color:var(--vt-on-accent);border:1px solid var(--vt-accent);
border-radius:var(--vt-radius);padding:.55em 1.25em;font-weight:600;cursor:pointer}
.vt-button:hover{filter:brightness(1.08)}
.vt-button:disabled{opacity:.55;cursor:not-allowed;filter:none}
.vt-button[aria-disabled=true]{opacity:.55;cursor:progress;filter:none}
.vt-secondary{background:transparent;color:var(--vt-accent)}
.vt-more{display:block;margin:0 auto 1.5em}
.vt-respond{position:relative;margin-top:2em;padding-top:1.25em;border-top:1px solid var(--vt-border)}
.vt:has(.vt-thread:empty) .vt-respond-home>.vt-respond{margin-top:0;padding-top:0;border-top:0}
.vt-comment>.vt-respond{margin:1em 0 0 calc(var(--vt-avatar) + .75em);padding:1em;border:1px solid var(--vt-border);
background:var(--vt-soft)}
.vt-respond-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:.25em 1em;margin-bottom:.4em}
.vt-title{font-size:1.15em;line-height:1.3;margin:0}
.vt-notes{font-size:.875em;color:var(--vt-muted);margin:0 0 1em}
.vt-req{color:var(--vt-error)}
.vt-field{margin:0 0 1em}
.vt-field label{display:block;font-weight:600;font-size:.925em;margin-bottom:.25em}
.vt-field input,.vt-field textarea{display:block;width:100%;max-width:30em;padding:.5em .65em;line-height:1.4;
border:1px solid var(--vt-border);border-radius:var(--vt-radius);background:var(--vt-surface);color:var(--vt-text)}
.vt-field textarea{max-width:none;min-height:8.5em;resize:vertical}
.vt-field [aria-invalid=true]{border-color:var(--vt-error);box-shadow:0 0 0 1px var(--vt-error)}
.vt-field-error{color:var(--vt-error);font-size:.875em;margin:.3em 0 0}
.vt-counter{color:var(--vt-muted);font-size:.825em;margin:.3em 0 0}
.vt-counter.vt-over{color:var(--vt-error);font-weight:600}
.vt-consent{display:flex;gap:.5em;align-items:flex-start;font-size:.9em;margin:0 0 1em}
.vt-consent input{flex:none;width:1.05em;height:1.05em;margin:.25em 0 0;accent-color:var(--vt-accent)}
.vt-submit{margin:0}
.vt-status{margin:.75em 0 0;font-size:.925em}
.vt-status.vt-bad{color:var(--vt-error)}
.vt-closed{margin:1em 0 0;color:var(--vt-muted);font-style:italic}
.vt-hp{position:absolute;top:0;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
`;

  // ---------------------------------------------------------------- small helpers

  /** An element with attributes (true means present, null/false means absent) and children. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === true) node.setAttribute(key, '');
      else if (value != null && value !== false) node.setAttribute(key, String(value));
    }
    node.append(...children.filter((c) => c != null && c !== false));
    return node;
  }

  function fill(template, vars) {
    return template.replace(/\{(\w+)\}/g, (whole, key) => (key in vars ? vars[key] : whole));
  }

  const storage = {
    get(key, fallback) {
      try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch { return fallback; }
    },
    set(key, value) {
      try {
        if (value == null) localStorage.removeItem(key);
        else localStorage.setItem(key, JSON.stringify(value));
      } catch { /* storage blocked or full: the widget works without it */ }
    },
  };

  /** Only http(s) addresses become links, whatever the server sent. */
  function safeHttpUrl(value) {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch { return null; }
  }

  function codePoints(text) {
    let n = 0;
    for (const _ of text) n++; // eslint-disable-line no-unused-vars
    return n;
  }

  /** Seconds to wait from a Retry-After header (seconds or an HTTP date), or null. */
  function retryAfterSeconds(header) {
    if (!header) return null;
    if (/^\d+$/.test(header.trim())) return Number(header);
    const at = Date.parse(header);
    return Number.isNaN(at) ? null : Math.max(1, Math.round((at - Date.now()) / 1000));
  }

  /** A 5x5 mirrored identicon drawn from the 32-hex avatar seed; its hue comes from the seed. */
  function identicon(seed) {
    const ns = 'http://www.w3.org/2000/svg';
    const hex = (String(seed || '').toLowerCase().match(/[0-9a-f]/g) || []).join('').padEnd(32, '0');
    const nibble = (i) => parseInt(hex[i], 16);
    const hue = Math.round((parseInt(hex.slice(0, 3), 16) / 4096) * 360);
    let d = '';
    for (let i = 0; i < 15; i++) {
      if (nibble(6 + i) % 2) continue;
      const col = Math.floor(i / 5);
      const row = i % 5;
      d += `M${col} ${row}h1v1h-1z`;
      if (col < 2) d += `M${4 - col} ${row}h1v1h-1z`;
    }
    const svg = document.createElementNS(ns, 'svg');
    const attrs = { class: 'vt-avatar', viewBox: '-0.75 -0.75 6.5 6.5', 'aria-hidden': 'true',
      focusable: 'false', 'shape-rendering': 'crispEdges' };
    for (const [k, v] of Object.entries(attrs)) svg.setAttribute(k, v);
    const bg = document.createElementNS(ns, 'rect');
    for (const [k, v] of Object.entries({ x: -0.75, y: -0.75, width: 6.5, height: 6.5 })) bg.setAttribute(k, v);
    const cells = document.createElementNS(ns, 'path');
    cells.setAttribute('d', d || 'M2 0h1v5h-1z');
    cells.setAttribute('fill', `hsl(${hue}, ${48 + nibble(3) * 2}%, ${40 + nibble(4)}%)`);
    svg.append(bg, cells);
    return svg;
  }

  // Server-sanitized HTML goes in as HTML. Under Trusted Types it needs a policy; and as a
  // second line of defence, anything scriptable is dropped before it reaches the page.
  let htmlPolicy;
  function trustedHtml(html) {
    if (htmlPolicy === undefined) {
      htmlPolicy = null;
      try {
        if (window.trustedTypes) htmlPolicy = trustedTypes.createPolicy('vetted', { createHTML: (s) => s });
      } catch { /* the page does not allow our policy: try plain strings */ }
    }
    return htmlPolicy ? htmlPolicy.createHTML(html) : html;
  }

  const UNSAFE_TAGS = 'script,style,iframe,frame,object,embed,link,meta,base,form,input,button,textarea,select,svg,math,template';
  function sanitizedFragment(html) {
    const template = document.createElement('template');
    template.innerHTML = trustedHtml(html); // inert: nothing loads or runs in a template
    const content = template.content;
    content.querySelectorAll(UNSAFE_TAGS).forEach((node) => node.remove());
    for (const node of content.querySelectorAll('*')) {
      for (const { name, value } of [...node.attributes]) {
        const isUrl = ['href', 'src', 'action', 'formaction', 'xlink:href'].includes(name);
        if (name.startsWith('on') || name === 'style' || (isUrl && !/^(https?:|mailto:|#|\/)/i.test(value.trim()))) {
          node.removeAttribute(name);
        }
      }
    }
    return content;
  }

  function setBody(container, comment) {
    if (typeof comment.body_html === 'string') {
      try { container.append(sanitizedFragment(comment.body_html)); return; } catch { /* Trusted Types refused */ }
      container.textContent = comment.body_html.replace(/<[^>]*>/g, ' ');
      return;
    }
    container.append(el('p', { class: 'vt-text' }, String(comment.body || '')));
  }

  // ---------------------------------------------------------------- finding the widgets

  function apiBase(host) {
    const explicit = host.dataset.api || (SCRIPT && SCRIPT.dataset.api);
    if (explicit) return new URL(explicit, document.baseURI).href.replace(/\/+$/, '');
    if (!SCRIPT || !SCRIPT.src) return location.origin;
    const src = new URL(SCRIPT.src, document.baseURI);
    return src.origin + src.pathname.replace(SCRIPT_PATH, '');
  }

  function language(host) {
    const marked = host.closest('[lang]');
    let tag = host.dataset.lang || (marked && marked.lang) || 'en';
    try { tag = Intl.getCanonicalLocales(tag)[0]; } catch { tag = 'en'; }
    const base = tag.split('-')[0].toLowerCase();
    return TEXTS[base] ? { locale: tag, base } : { locale: 'en', base: 'en' };
  }

  function articleUrl(host) {
    if (host.dataset.articleUrl) return host.dataset.articleUrl;
    const canonical = document.querySelector('link[rel=canonical]');
    const url = safeHttpUrl(canonical ? canonical.href : location.href.split('#')[0]);
    return url || undefined;
  }

  function applyStyles(shadow) {
    if ('adoptedStyleSheets' in Document.prototype && 'replaceSync' in CSSStyleSheet.prototype) {
      // Constructed sheets are not governed by the page's style-src, so this works under a strict CSP.
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
    } else {
      shadow.append(el('style', null, CSS)); // older browsers; needs style-src to allow it
    }
  }

  // ---------------------------------------------------------------- one widget

  class Widget {
    constructor(host) {
      this.host = host;
      this.site = host.dataset.site;
      this.article = host.dataset.article;
      this.base = apiBase(host);
      const { locale, base } = language(host);
      this.locale = locale;
      this.texts = { ...TEXTS.en, requiredAfter: '', ...TEXTS[base] };
      this.pendingKey = `vetted:pending:${this.site}:${this.article}`;
      this.sort = 'oldest';
      this.cursor = null;
      this.generation = 0;
      this.rendered = new Map(); // comment id -> <li>
      this.ownComments = new Map(); // the reader's comments the thread may not show yet, by id
      this.parentId = null;
      this.sending = false;
      this.closed = false;
      this.shownAt = null;
      this.numbers = new Intl.NumberFormat(locale);
      this.plural = Intl.PluralRules ? new Intl.PluralRules(locale) : null;
      this.relative = Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }) : null;
      this.exact = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short' });
    }

    t(key, vars) {
      return fill(this.texts[key], vars || {});
    }

    mount() {
      const shadow = this.host.attachShadow({ mode: 'open' });
      applyStyles(shadow);
      this.root = el('div', { class: 'vt', lang: this.locale, 'data-testid': 'vetted' });
      this.root.append(this.buildHead(), this.buildNotice(), this.buildThread(), this.buildRespond());
      shadow.append(this.root);
      this.root.addEventListener('click', (event) => this.onClick(event));
      const timer = setInterval(() => (this.host.isConnected ? this.refreshTimes() : clearInterval(timer)), 60000);
      this.start();
    }

    async start() {
      this.noticeText.textContent = this.t('loading');
      this.retryButton.hidden = true;
      // A reader waiting on a decision revalidates the thread (a cheap 304 via the ETag): a
      // copy cached from before the approval would show their comment but not count it.
      const waiting = storage.get(this.pendingKey, []);
      const own = this.fetchOwnComments();
      const loaded = await this.loadPage(true, Array.isArray(waiting) && waiting.length > 0);
      const comments = await own;
      if (!loaded) return;
      comments.forEach((comment) => this.ownComments.set(comment.id, comment));
      this.placeOwnComments();
    }

    // ------------------------------------------------------------ building the DOM

    buildHead() {
      this.count = el('h2', { class: 'vt-count', 'data-testid': 'comment-count' }, this.t('comments'));
      this.sortSelect = el('select', { name: 'sort', 'data-testid': 'sort' },
        el('option', { value: 'oldest' }, this.t('oldest')),
        el('option', { value: 'newest' }, this.t('newest')));
      this.sortSelect.addEventListener('change', () => this.changeSort(this.sortSelect.value));
      this.sortLabel = el('label', { class: 'vt-sort', hidden: true }, this.t('sortBy'), this.sortSelect);
      return el('div', { class: 'vt-head' }, this.count, this.sortLabel);
    }

    buildNotice() {
      this.noticeText = el('span', null, this.t('loading'));
      this.retryButton = el('button', { type: 'button', class: 'vt-link vt-retry', hidden: true }, this.t('retry'));
      this.notice = el('p', { class: 'vt-notice', 'data-testid': 'notice' }, this.noticeText, this.retryButton);
      return this.notice;
    }

    buildThread() {
      this.list = el('ol', { class: 'vt-thread', 'data-testid': 'thread' });
      this.moreButton = el('button', { type: 'button', class: 'vt-button vt-secondary vt-more',
        'data-testid': 'load-more', hidden: true }, this.t('loadMore'));
      const wrap = el('div', null, this.list, this.moreButton);
      return wrap;
    }

    buildRespond() {
      this.title = el('h3', { class: 'vt-title', id: 'reply-title' }, this.t('leaveReply'));
      this.cancelButton = el('button', { type: 'button', class: 'vt-link vt-cancel', 'data-testid': 'cancel-reply',
        hidden: true }, this.t('cancelReply'));
      this.form = this.buildForm();
      this.closedNote = el('p', { class: 'vt-closed', 'data-testid': 'closed', hidden: true }, this.t('closed'));
      this.status = el('div', { class: 'vt-status', role: 'status', 'aria-live': 'polite', 'data-testid': 'status' });
      this.respond = el('section', { class: 'vt-respond', id: 'respond', 'aria-labelledby': 'reply-title', hidden: true },
        el('div', { class: 'vt-respond-head' }, this.title, this.cancelButton),
        this.form, this.closedNote, this.status);
      this.home = el('div', { class: 'vt-respond-home' }, this.respond);
      return this.home;
    }

    buildForm() {
      const t = (key) => this.t(key);
      const star = () => el('span', { class: 'vt-req', 'aria-hidden': 'true' }, '*');
      this.inputs = {
        body: el('textarea', { id: 'vt-body', name: 'body', rows: 8, required: true, 'aria-required': 'true' }),
        name: el('input', { id: 'vt-name', name: 'name', type: 'text', maxlength: 100, autocomplete: 'name',
          required: true, 'aria-required': 'true' }),
        email: el('input', { id: 'vt-email', name: 'email', type: 'email', maxlength: 254, autocomplete: 'email',
          required: true, 'aria-required': 'true' }),
        website: el('input', { id: 'vt-website', name: 'website', type: 'url', maxlength: 500, autocomplete: 'url' }),
      };
      this.errors = {};
      const row = (field, required, ...extra) => {
        this.errors[field] = el('p', { class: 'vt-field-error', id: `${field}-error`, hidden: true });
        return el('p', { class: `vt-field vt-field-${field}` },
          el('label', { for: `vt-${field}` }, t(field), required && ' ', required && star()),
          this.inputs[field], ...extra, this.errors[field]);
      };
      this.counter = el('p', { class: 'vt-counter', id: 'body-count', hidden: true });
      this.saveBox = el('input', { id: 'vt-save', name: 'save', type: 'checkbox', value: 'yes' });
      this.honeypot = el('input', { id: 'vt-hp', name: 'homepage', type: 'text', tabindex: -1, autocomplete: 'off',
        'data-testid': 'honeypot' });
      this.submitButton = el('button', { type: 'submit', class: 'vt-button', 'data-testid': 'submit' }, t('post'));
      const form = el('form', { class: 'vt-form', novalidate: true, 'data-testid': 'comment-form' },
        el('p', { class: 'vt-notes' }, el('span', { id: 'email-notes' }, t('emailNote')), ' ',
          t('requiredNote'), ' ', star(), this.texts.requiredAfter ? ` ${this.texts.requiredAfter}` : ''),
        row('body', true, this.counter), row('name', true), row('email', true), row('website', false),
        el('div', { class: 'vt-hp', 'aria-hidden': 'true' }, el('label', { for: 'vt-hp' }, t('honeypot')), this.honeypot),
        el('p', { class: 'vt-consent' }, this.saveBox, el('label', { for: 'vt-save' }, t('save'))),
        el('p', { class: 'vt-submit' }, this.submitButton));
      FIELDS.forEach((field) => this.describe(field));
      this.inputs.body.addEventListener('input', () => this.updateCounter());
      form.addEventListener('submit', (event) => this.submit(event));
      form.addEventListener('keydown', (event) => {
        if (event.key === 'Escape' && this.parentId != null) this.cancelReply(true);
      });
      this.restoreAuthor();
      return form;
    }

    /** Points a field's aria-describedby at its note, its counter and its error, as they apply. */
    describe(field) {
      const ids = [];
      if (!this.errors[field].hidden) ids.push(`${field}-error`);
      if (field === 'email') ids.push('email-notes');
      if (field === 'body' && !this.counter.hidden) ids.push('body-count');
      if (ids.length) this.inputs[field].setAttribute('aria-describedby', ids.join(' '));
      else this.inputs[field].removeAttribute('aria-describedby');
    }

    commentNode(comment) {
      if (comment.removed) return this.removedNode(comment);
      const author = comment.author || {};
      const name = author.name || this.t('anonymous');
      const website = author.website && safeHttpUrl(author.website);
      const own = comment.status && comment.status !== 'approved';
      const li = el('li', { class: 'vt-comment', 'data-comment-id': comment.id, 'data-testid': 'comment' });
      if (comment.featured) li.classList.add('vt-featured');
      if (own) {
        li.classList.add('vt-is-pending');
        li.dataset.status = comment.status;
      }
      const meta = el('div', { class: 'vt-meta' }, identicon(author.avatar),
        el('span', { class: 'vt-author', dir: 'auto' },
          website ? el('a', { href: website, rel: 'nofollow ugc noopener' }, name) : name),
        this.timeNode(comment.created_at),
        comment.edited && el('span', { class: 'vt-edited' }, this.t('edited')),
        comment.featured && el('span', { class: 'vt-badge' }, this.t('featured')));
      const content = el('div', { class: 'vt-content', dir: 'auto' });
      setBody(content, comment);
      const card = el('article', { class: 'vt-card', tabindex: -1 }, meta,
        own && el('em', { class: 'vt-pending', 'data-testid': 'awaiting-moderation' }, this.t('awaiting')),
        content,
        !own && el('div', { class: 'vt-actions' }, el('button', { type: 'button', class: 'vt-link vt-reply',
          'aria-label': this.t('replyTo', { name }), 'data-testid': 'reply' }, this.t('reply'))));
      li.append(card);
      return this.withReplies(li, comment);
    }

    /** Registers a comment's node and hangs its replies (those not shown yet) under it. */
    withReplies(li, comment) {
      this.rendered.set(comment.id, li);
      const replies = (comment.replies || []).filter((reply) => !this.rendered.has(reply.id));
      if (replies.length) li.append(el('ol', { class: 'vt-replies' }, ...replies.map((r) => this.commentNode(r))));
      return li;
    }

    /** The place of a comment no longer public, kept for the replies under it (no author, no text). */
    removedNode(comment) {
      const li = el('li', { class: 'vt-comment vt-removed', 'data-comment-id': comment.id, 'data-testid': 'removed-comment' },
        el('article', { class: 'vt-card', tabindex: -1 }, el('p', { class: 'vt-content' }, this.t('removed'))));
      return this.withReplies(li, comment);
    }

    timeNode(iso) {
      const date = new Date(iso);
      if (!iso || Number.isNaN(date.getTime())) return null;
      return el('time', { class: 'vt-time', datetime: iso, title: this.exact.format(date) }, this.ago(date));
    }

    ago(date) {
      if (!this.relative) return this.exact.format(date);
      const seconds = Math.max(0, (Date.now() - date.getTime()) / 1000);
      const steps = [[60, 1, 'second'], [3600, 60, 'minute'], [86400, 3600, 'hour'], [604800, 86400, 'day'],
        [2629800, 604800, 'week'], [31557600, 2629800, 'month'], [Infinity, 31557600, 'year']];
      const [, size, unit] = steps.find(([limit]) => seconds < limit);
      const amount = unit === 'second' ? 0 : Math.floor(seconds / size);
      return this.relative.format(-amount, unit);
    }

    refreshTimes() {
      this.root.querySelectorAll('time.vt-time').forEach((node) => {
        node.textContent = this.ago(new Date(node.getAttribute('datetime')));
      });
    }

    // ------------------------------------------------------------ reading the thread

    async request(path, options = {}) {
      const response = await fetch(`${this.base}/api/v1/sites/${encodeURIComponent(this.site)}${path}`, {
        credentials: 'omit',
        mode: 'cors',
        ...options,
        headers: { Accept: 'application/json', 'Accept-Language': this.locale, ...options.headers },
      });
      let data = null;
      try { data = await response.json(); } catch { /* empty or not JSON: judged by status alone */ }
      return { response, data };
    }

    threadPath(params) {
      const article = this.article.split('/').map(encodeURIComponent).join('/');
      return `/articles/${article}/comments?${new URLSearchParams(params)}`;
    }

    /** Loads the first page (reset) or the next one, past the HTTP cache if asked; true when it worked. */
    async loadPage(reset, revalidate) {
      const generation = reset ? ++this.generation : this.generation;
      const params = { sort: this.sort, limit: PAGE_SIZE };
      if (!reset && this.cursor) params.cursor = this.cursor;
      this.setLoading(true);
      let result;
      try {
        result = await this.request(this.threadPath(params), revalidate ? { cache: 'no-cache' } : {});
      } catch {
        result = null;
      }
      if (generation !== this.generation) return false;
      this.setLoading(false);
      if (!result || !result.response.ok || !result.data) {
        this.showLoadFailure(result ? result.response.status : 0, reset);
        return false;
      }
      this.renderPage(result.data, reset);
      return true;
    }

    /** While a page loads, "Load more" is aria-disabled: a disabled button loses the focus. */
    setLoading(loading) {
      this.loading = loading;
      if (loading) this.moreButton.setAttribute('aria-disabled', 'true');
      else this.moreButton.removeAttribute('aria-disabled');
    }

    showLoadFailure(status, reset) {
      if (!reset) {
        this.say(this.t('loadFailed'), true, 'loadFailed');
        return;
      }
      this.noticeText.textContent = this.t(status === 404 ? 'unavailable' : 'loadFailed');
      this.retryButton.hidden = status === 404;
      this.notice.hidden = false;
    }

    renderPage(data, reset) {
      const article = data.article || {};
      const comments = Array.isArray(data.comments) ? data.comments : [];
      if (reset) this.clearThread();
      this.notice.hidden = true;
      this.showCount(Number(article.comment_count) || 0);
      const fresh = comments.filter((c) => !this.rendered.has(c.id)).map((c) => this.commentNode(c));
      this.list.append(...fresh);
      this.placeOwnComments();
      this.cursor = data.next_cursor || null;
      const hadFocus = this.root.getRootNode().activeElement === this.moreButton;
      this.moreButton.hidden = !this.cursor;
      // From "Load more" to the first comment it loaded: Tab then reads on through them.
      if (hadFocus && fresh.length) fresh[0].firstChild.focus();
      if (this.statusKind === 'loadFailed') this.say('');
      this.sortLabel.hidden = false;
      if (article.closed) this.closeComments(false);
      this.showForm();
    }

    clearThread() {
      this.cancelReply(false);
      this.rendered.clear();
      this.list.replaceChildren();
    }

    showCount(n) {
      const form = n === 0 ? 'none' : this.plural && this.plural.select(n) === 'one' ? 'one' : 'other';
      this.count.textContent = this.t(form, { n: this.numbers.format(n) });
      this.count.dataset.count = n;
    }

    showForm() {
      if (!this.respond.hidden) return;
      this.respond.hidden = false;
      this.shownAt = Date.now();
    }

    async changeSort(sort) {
      this.sort = sort === 'newest' ? 'newest' : 'oldest';
      this.cursor = null;
      await this.loadPage(true);
    }

    // ------------------------------------------------------------ the reader's own comments

    /** The stored pending comments, each fetched with its author token; storage is pruned. */
    async fetchOwnComments() {
      const entries = storage.get(this.pendingKey, []);
      if (!Array.isArray(entries) || !entries.length) return [];
      const results = await Promise.all(entries.map((entry) => this.fetchOwn(entry)));
      const kept = entries.filter((_, i) => results[i].keep);
      storage.set(this.pendingKey, kept.length ? kept : null);
      return results.map((r) => r.comment).filter(Boolean);
    }

    async fetchOwn(entry) {
      let result;
      try {
        result = await this.request(`/comments/${encodeURIComponent(entry.id)}`, {
          cache: 'no-store', headers: { 'Vetted-Author-Token': String(entry.author_token) },
        });
      } catch {
        return { keep: true }; // offline: try again next time
      }
      const { response, data } = result;
      if (response.ok && data && data.status === 'pending') return { keep: true, comment: data };
      // Approved: the thread shows it, unless the thread came from a cache older than the approval.
      if (response.ok && data && data.status === 'approved') return { keep: false, comment: data };
      return { keep: response.status === 429 || response.status >= 500 }; // rejected or gone: forget it
    }

    rememberPending(id, token) {
      const entries = storage.get(this.pendingKey, []);
      const others = Array.isArray(entries) ? entries.filter((e) => e.id !== id) : [];
      storage.set(this.pendingKey, [...others, { id, author_token: token }].slice(-PENDING_KEPT));
    }

    placeOwnComments() {
      for (const comment of this.ownComments.values()) this.place(comment);
    }

    /** Shows one of the reader's comments: a reply once its parent is shown (it may be on a
     * later page), a top-level one at the end of the thread where it was written. */
    place(comment) {
      const shown = this.rendered.get(comment.id);
      const isOwnNode = shown && shown.classList.contains('vt-own');
      if (shown && !(isOwnNode && comment.parent_id == null && this.sort === 'oldest')) return shown;
      if (comment.parent_id != null) {
        const parent = this.rendered.get(comment.parent_id);
        if (!parent) return null;
        let replies = parent.querySelector(':scope > .vt-replies');
        if (!replies) parent.append((replies = el('ol', { class: 'vt-replies' })));
        return replies.appendChild(this.ownNode(comment));
      }
      const node = shown || this.ownNode(comment);
      if (this.sort === 'newest') this.list.prepend(node);
      else this.list.append(node); // moves it below any page loaded since
      return node;
    }

    ownNode(comment) {
      const node = this.commentNode({ ...comment, replies: [] });
      node.classList.add('vt-own');
      return node;
    }

    // ------------------------------------------------------------ replying

    onClick(event) {
      const button = event.target.closest('button');
      if (!button) return;
      if (button.classList.contains('vt-reply')) this.startReply(button);
      else if (button === this.cancelButton) this.cancelReply(true);
      else if (button === this.moreButton) { if (!this.loading) this.loadPage(false); }
      else if (button === this.retryButton) this.start();
    }

    startReply(button) {
      const item = button.closest('.vt-comment');
      const name = item.querySelector('.vt-author').textContent;
      this.parentId = Number(item.dataset.commentId);
      this.replyButton = button;
      this.title.textContent = this.t('leaveReplyTo', { name });
      this.cancelButton.hidden = false;
      this.say('');
      item.querySelector(':scope > .vt-card').after(this.respond);
      this.inputs.body.focus();
    }

    cancelReply(returnFocus) {
      if (this.parentId == null) return;
      this.parentId = null;
      this.title.textContent = this.t('leaveReply');
      this.cancelButton.hidden = true;
      this.home.append(this.respond);
      if (returnFocus && this.replyButton && this.replyButton.isConnected) this.replyButton.focus();
    }

    // ------------------------------------------------------------ the form

    restoreAuthor() {
      const saved = storage.get(AUTHOR_KEY, null);
      if (!saved || typeof saved !== 'object') return;
      for (const field of ['name', 'email', 'website']) {
        if (typeof saved[field] === 'string') this.inputs[field].value = saved[field];
      }
      this.saveBox.checked = true;
    }

    rememberAuthor(values) {
      const { name, email, website } = values;
      storage.set(AUTHOR_KEY, this.saveBox.checked ? { name, email, website: website || '' } : null);
    }

    updateCounter() {
      const used = codePoints(this.inputs.body.value.trim());
      const left = BODY_MAX - used;
      const wasOver = this.counter.classList.contains('vt-over');
      this.counter.hidden = used < COUNTER_FROM;
      this.counter.classList.toggle('vt-over', left < 0);
      const n = Math.abs(left);
      const one = this.plural && this.plural.select(n) === 'one' ? 'One' : '';
      this.counter.textContent = this.t(`${left >= 0 ? 'charsLeft' : 'charsOver'}${one}`, { n: this.numbers.format(n) });
      if (left < 0 && !wasOver) this.say(this.t('tooLong', { max: this.numbers.format(BODY_MAX) }), true, 'tooLong');
      if (left >= 0 && this.statusKind === 'tooLong') this.say('');
      this.describe('body');
    }

    readForm() {
      const value = (field) => this.inputs[field].value.trim();
      let website = value('website');
      if (website && !/^[a-z][a-z0-9+.-]*:/i.test(website)) {
        website = `https://${website}`; // readers often type "example.org"
        this.inputs.website.value = website;
      }
      return { name: value('name'), email: value('email'), website, body: this.inputs.body.value };
    }

    /** Checks the browser can make cheaply, in the reader's language; the server has the last word. */
    validate(values) {
      const errors = [];
      const max = (n) => this.t('tooLong', { max: this.numbers.format(n) });
      if (!values.body.trim()) errors.push(['body', this.t('required')]);
      else if (codePoints(values.body.trim()) > BODY_MAX) errors.push(['body', max(BODY_MAX)]);
      if (!values.name) errors.push(['name', this.t('required')]);
      if (!values.email) errors.push(['email', this.t('required')]);
      else if (!/^[^\s@]+@[^\s@]+$/.test(values.email)) errors.push(['email', this.t('badEmail')]);
      if (values.website && !safeHttpUrl(values.website)) errors.push(['website', this.t('badUrl')]);
      return errors;
    }

    /** Marks each [field, message] pair beside its field and clears the rest. */
    showFieldErrors(pairs) {
      for (const field of FIELDS) {
        const messages = pairs.filter(([f]) => f === field).map(([, m]) => m);
        const box = this.errors[field];
        box.textContent = messages.join(' ');
        box.hidden = !messages.length;
        if (messages.length) this.inputs[field].setAttribute('aria-invalid', 'true');
        else this.inputs[field].removeAttribute('aria-invalid');
        this.describe(field);
      }
    }

    focusFirstInvalid() {
      const field = FIELDS.find((f) => !this.errors[f].hidden);
      if (field) this.inputs[field].focus();
      return Boolean(field);
    }

    /** The status line; kind names a message that later events may take back. */
    say(message, bad, kind) {
      this.status.textContent = message;
      this.status.classList.toggle('vt-bad', Boolean(bad));
      this.statusKind = kind || null;
    }

    setSending(sending) {
      this.sending = sending;
      this.submitButton.disabled = sending || this.closed;
      this.form.setAttribute('aria-busy', String(sending));
    }

    payload(values) {
      const title = this.host.dataset.articleTitle || document.title;
      return {
        ...values,
        website: values.website || undefined,
        parent_id: this.parentId ?? undefined,
        article_url: articleUrl(this.host),
        article_title: title ? title.slice(0, 500) : undefined,
        honeypot: this.honeypot.value,
        elapsed_ms: Math.max(0, Date.now() - (this.shownAt || Date.now())),
      };
    }

    async submit(event) {
      event.preventDefault();
      if (this.sending || this.closed || this.holding) return;
      const values = this.readForm();
      const problems = this.validate(values);
      this.showFieldErrors(problems);
      if (problems.length) {
        this.say(this.t('fixFields'), true);
        this.focusFirstInvalid();
        return;
      }
      this.setSending(true);
      this.say(this.t('sending'));
      let result;
      try {
        result = await this.request(this.threadPath({}).replace(/\?$/, ''), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(this.payload(values)),
        });
      } catch {
        result = null;
      }
      this.setSending(false);
      if (!result) this.refused(this.t('network'));
      else if (result.response.ok) this.accepted(result.data || {}, values);
      else this.rejected(result.response, result.data || {});
    }

    accepted(data, values) {
      const comment = data.comment && typeof data.comment === 'object' ? { ...data.comment } : {
        id: data.id, parent_id: this.parentId, created_at: new Date().toISOString(), body: values.body,
        author: { name: values.name, website: values.website || null, avatar: '' },
      };
      comment.status = comment.status || data.status || 'pending';
      if (comment.status !== 'approved' && data.id != null && data.author_token) {
        this.rememberPending(data.id, data.author_token);
      }
      if (comment.status !== 'approved') this.ownComments.set(comment.id, comment);
      this.rememberAuthor(values);
      this.inputs.body.value = '';
      this.updateCounter();
      this.cancelReply(false);
      const node = comment.id != null ? this.place(comment) : null;
      this.say(this.t(comment.status === 'approved' ? 'published' : 'thanks'));
      if (node) {
        node.firstChild.focus({ preventScroll: true });
        node.scrollIntoView({ block: 'nearest' });
      }
    }

    rejected(response, problem) {
      const errors = Array.isArray(problem.errors) ? problem.errors.filter((e) => e && e.field) : [];
      const own = errors.filter((e) => FIELDS.includes(e.field));
      const others = errors.filter((e) => !FIELDS.includes(e.field)).map((e) => e.detail).filter(Boolean);
      this.showFieldErrors(own.map((e) => [e.field, e.detail || problem.title || this.t('failed')]));
      const type = String(problem.type || '');
      let message;
      if (type.endsWith('/comments-closed')) {
        this.closeComments(true);
        message = ''; // the closed note says it
      } else if (type.endsWith('/origin-not-allowed')) {
        console.error(`Vetted: ${problem.detail} Add this page's origin to the site's allowed_origins.`);
        message = this.t('wrongOrigin');
      } else if (response.status === 429) {
        const wait = retryAfterSeconds(response.headers.get('Retry-After'));
        if (wait) {
          this.holdSubmit(wait);
          this.submitButton.focus();
          return;
        }
        message = this.t('tooFast');
      } else if (response.status === 413) {
        message = this.t('tooLarge');
      } else if (own.length) {
        message = [this.t('fixFields'), ...others].join(' ');
      } else {
        message = [problem.detail || problem.title || this.t('failed'), ...others].join(' ');
      }
      this.refused(message);
    }

    /** After a 429: the button waits out Retry-After, the status counting down (announced once). */
    holdSubmit(seconds) {
      const until = Date.now() + seconds * 1000;
      const tick = () => {
        const left = Math.ceil((until - Date.now()) / 1000);
        if (left > 0) {
          this.say(`${this.t('tooFast')} ${this.t('retryIn', { n: this.numbers.format(left) })}`, true, 'tooFast');
          this.status.setAttribute('aria-live', 'off'); // the count changes each second: say it once
          return;
        }
        clearInterval(this.holdTimer);
        this.holding = false;
        this.submitButton.removeAttribute('aria-disabled');
        this.status.removeAttribute('aria-live');
        if (this.statusKind === 'tooFast') this.say('');
      };
      clearInterval(this.holdTimer);
      this.holding = true;
      this.submitButton.setAttribute('aria-disabled', 'true'); // disabled would drop the focus
      tick();
      this.holdTimer = setInterval(tick, 1000);
    }

    /** Reports a failed submission; the reader's text stays where it is. */
    refused(message) {
      this.say(message, true);
      if (!this.focusFirstInvalid()) (this.closed ? this.inputs.body : this.submitButton).focus();
    }

    /** No more comments: on load the form gives way to a note; after a 403 it stays so no text is lost. */
    closeComments(keepForm) {
      this.closed = true;
      this.root.classList.add('vt-is-closed');
      this.closedNote.hidden = false;
      this.submitButton.disabled = true;
      if (!keepForm) {
        this.cancelReply(false);
        this.form.hidden = true;
        this.title.parentNode.hidden = true;
      }
    }
  }

  // ---------------------------------------------------------------- start

  function mount(host) {
    if (!host || MOUNTED.has(host)) return;
    if (!host.dataset.site || !host.dataset.article) {
      console.warn('Vetted: the comments element needs data-site and data-article.', host);
      return;
    }
    if (!ARTICLE_KEY.test(host.dataset.article)) {
      // The API refuses such a key (422): a thread that could never load would offer "Try again".
      console.warn('Vetted: data-article must be 1-200 letters, digits and ._~/- (a slug or id, not a URL).', host);
      return;
    }
    MOUNTED.add(host);
    try {
      new Widget(host).mount();
    } catch (error) {
      console.error('Vetted: could not start the comments widget.', error);
    }
  }

  function mountAll() {
    document.querySelectorAll('#vetted-comments, .vetted-comments, [data-vetted]').forEach(mount);
  }

  window.Vetted = window.Vetted || { mount, mountAll };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mountAll, { once: true });
  else mountAll();
})();
