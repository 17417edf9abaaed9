// /login: sign in, then go back to where the person came from.

import { isSignedIn } from "../api.js";
import { start } from "../shell.js";
import { mountSignIn } from "../signin.js";
import { $, safeNext } from "../ui.js";

start(() => {
  const next = safeNext(new URLSearchParams(window.location.search).get("next"));
  if (isSignedIn()) {
    window.location.replace(next);
    return;
  }
  mountSignIn($("[data-signin]"), () => window.location.replace(next));
});
