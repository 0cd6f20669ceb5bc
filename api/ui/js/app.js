// The console's shell: the key form, the navigation and a hash router (#/attribute,
// #/actor/<id>, #/pivot/<value>, #/decide/<campaign id>). Page state lives in the hash, the key
// in sessionStorage.

import { getKey, setKey } from "./api.js";
import { setStatus } from "./dom.js";
import { showActor } from "./pages/actor.js";
import { showAttribute } from "./pages/attribute.js";
import { showDecide } from "./pages/decide.js";
import { showPivot } from "./pages/pivot.js";

const PAGES = { attribute: showAttribute, actor: showActor, pivot: showPivot, decide: showDecide };

function route() {
  const [, page = "attribute", ...rest] = (window.location.hash || "#/attribute").split("/");
  const show = PAGES[page] || showAttribute;
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.page === page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const main = document.getElementById("main");
  main.replaceChildren();
  setStatus("");
  show(main, decodeURIComponent(rest.join("/")));
}

function showKeyState() {
  document.getElementById("key-state").textContent = getKey()
    ? "key set for this tab"
    : "no key: enter one to use the console";
}

document.getElementById("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("api-key");
  setKey(input.value.trim());
  input.value = "";
  showKeyState();
  route();
});
document.getElementById("key-forget").addEventListener("click", () => {
  setKey("");
  showKeyState();
  route();
});
window.addEventListener("hashchange", route);
showKeyState();
route();
