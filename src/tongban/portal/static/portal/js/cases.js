/* Tongban portal: uploads with a progress bar on the application page.
   Each upload form also works without JavaScript (it posts to the portal). With JavaScript the file
   goes to the API (POST /api/v1/cases/{number}/materials/{code}/files; session cookie + CSRF header)
   through XMLHttpRequest, whose upload progress events drive the <progress> element; afterwards the
   checklist and the completeness list are re-read (htmx) or, after acceptance, the page reloads. */
(function () {
  "use strict";
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var english = document.documentElement.lang === "en";

  function msg(form, name) {  // the page's own (gettext) wording, rendered into data attributes
    return form.getAttribute("data-msg-" + name) || name;
  }

  function say(form, text, isError) {
    var status = form.querySelector(".upload-status");
    if (status) {
      status.textContent = text;
      status.classList.toggle("error", !!isError);
    }
  }

  function problemsText(xhr) {
    try {
      var body = JSON.parse(xhr.responseText);
      return (body.detail || []).map(function (p) { return english ? (p.zh + " / " + p.en) : p.zh; }).join("；");
    } catch (e) {
      return null;
    }
  }

  function refresh(form) {
    var list = document.querySelector("#materials.materials-section");
    var url = form.getAttribute("data-refresh-url");
    if (list && url && window.htmx) {
      window.htmx.ajax("GET", url, { target: "#materials", swap: "outerHTML" });
    } else {
      window.location.reload();
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("upload-form") || !window.XMLHttpRequest || !window.FormData) {
      return;
    }
    var input = form.querySelector('input[type="file"]');
    if (!input || !input.files || !input.files.length) {
      event.preventDefault();
      say(form, msg(form, "choose"), true);
      input && input.focus();
      return;
    }
    event.preventDefault();
    var bar = form.querySelector("progress");
    var button = form.querySelector('button[type="submit"]');
    var data = new FormData();
    data.append("file", input.files[0]);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("data-upload-url"));
    xhr.setRequestHeader("X-CSRFToken", token);
    xhr.setRequestHeader("Accept", "application/json");
    if (bar) { bar.hidden = false; bar.value = 0; }
    if (button) { button.disabled = true; }
    say(form, msg(form, "uploading"));
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable && bar) { bar.value = Math.round(100 * e.loaded / e.total); }
    });
    xhr.addEventListener("load", function () {
      if (button) { button.disabled = false; }
      if (xhr.status === 201) {
        if (bar) { bar.value = 100; }
        form.setAttribute("data-uploaded", "true");
        say(form, msg(form, "done"));
        refresh(form);
      } else {
        if (bar) { bar.hidden = true; }
        say(form, problemsText(xhr) || msg(form, "failed") + " (" + xhr.status + ")", true);
      }
    });
    xhr.addEventListener("error", function () {
      if (button) { button.disabled = false; }
      if (bar) { bar.hidden = true; }
      say(form, msg(form, "failed"), true);
    });
    xhr.send(data);
  });
}());
