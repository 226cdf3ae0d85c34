// Event and EventTarget: listeners in order, once, removal, handleEvent
// objects, duplicate listeners, preventDefault, stopImmediatePropagation,
// CustomEvent detail, subclassing.
export default {
  async fetch() {
    const log = [];
    const et = new EventTarget();
    const listener = (e) => log.push(["fn", e.type, e.eventPhase, e.target === et, e.currentTarget === et]);
    et.addEventListener("ping", listener);
    et.addEventListener("ping", listener); // duplicate: ignored
    et.addEventListener("ping", () => log.push(["once"]), { once: true });
    et.addEventListener("ping", { handleEvent(e) { log.push(["object", e.type]); } });
    et.dispatchEvent(new Event("ping"));
    et.dispatchEvent(new Event("ping"));
    et.removeEventListener("ping", listener);
    et.dispatchEvent(new Event("ping"));

    const stop = new EventTarget();
    stop.addEventListener("x", (e) => { log.push(["first"]); e.stopImmediatePropagation(); });
    stop.addEventListener("x", () => log.push(["never"]));
    stop.dispatchEvent(new Event("x"));

    const cancel = new EventTarget();
    cancel.addEventListener("c", (e) => e.preventDefault());
    const cancelable = new Event("c", { cancelable: true });
    const notCancelable = new Event("c");
    const results = [cancel.dispatchEvent(cancelable), cancelable.defaultPrevented, cancel.dispatchEvent(notCancelable), notCancelable.defaultPrevented];

    class Emitter extends EventTarget {
      fire() { return this.dispatchEvent(new CustomEvent("custom", { detail: { n: 7 } })); }
    }
    const em = new Emitter();
    em.addEventListener("custom", (e) => log.push(["custom", e.detail, e instanceof Event]));
    em.fire();

    const ev = new Event("props", { bubbles: true, cancelable: true, composed: false });
    const redispatch = (() => {
      const t = new EventTarget();
      let err = "no error";
      t.addEventListener("r", (e) => { try { t.dispatchEvent(e); } catch (x) { err = x.name; } });
      t.dispatchEvent(new Event("r"));
      return err;
    })();
    return Response.json({
      log,
      results,
      props: { type: ev.type, bubbles: ev.bubbles, cancelable: ev.cancelable, composed: ev.composed, isTrusted: ev.isTrusted, phase: ev.eventPhase, timeStampType: typeof ev.timeStamp },
      noType: (() => { try { new Event(); return "no error"; } catch (e) { return e.name; } })(),
      redispatch,
      nullListener: (() => { try { et.addEventListener("z", null); return "no error"; } catch (e) { return e.name; } })(),
    });
  },
};
