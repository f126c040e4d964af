import { describe, expect, test } from "vitest";
import { Details } from "../../src/model.js";
import { detailLabel } from "../../src/stats/metrics.js";

describe("detailLabel", () => {
  test("keeps status codes and LINE's fixed strings as they are", () => {
    expect(detailLabel("503")).toBe("503");
    for (const d of Object.values(Details)) expect(detailLabel(d)).toBe(d);
  });

  test("drops a parenthesised code so TLS errors cannot mint new series", () => {
    expect(detailLabel("TLS handshake failure (CERT_HAS_EXPIRED)")).toBe("TLS handshake failure");
    expect(detailLabel("TLS handshake failure (DEPTH_ZERO_SELF_SIGNED_CERT)")).toBe("TLS handshake failure");
  });

  test("folds anything unexpected into one label value", () => {
    expect(detailLabel("5030")).toBe("other");
    expect(detailLabel("surprise from a provider")).toBe("other");
  });
});
