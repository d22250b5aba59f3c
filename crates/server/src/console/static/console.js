// The console works without this file; it only adds comfort:
// - country codes shown with their names in the page's language (Intl.DisplayNames);
// - filters applied as soon as a choice changes;
// - a confirmation before an action that cannot be undone (data-confirm on the button).
'use strict';
(function () {
  const lang = document.documentElement.lang || 'en';
  let names = null;
  try {
    names = new Intl.DisplayNames([lang], { type: 'region' });
  } catch (e) {
    names = null;
  }
  if (names) {
    for (const el of document.querySelectorAll('[data-country]')) {
      const code = el.getAttribute('data-country');
      const name = code && names.of(code.toUpperCase());
      if (name && name !== code) {
        el.textContent = name + ' (' + code + ')';
      }
    }
  }
  for (const select of document.querySelectorAll('select[data-autosubmit]')) {
    select.addEventListener('change', () => select.form && select.form.submit());
  }
  for (const button of document.querySelectorAll('[data-confirm]')) {
    button.addEventListener('click', (event) => {
      if (!window.confirm(button.getAttribute('data-confirm'))) {
        event.preventDefault();
      }
    });
  }
})();
