// Hand-written declarations of the public API of src/qrlogin.js. The response bodies come from the gateway's
// OpenAPI document (`npm run types` writes src/api-types.d.ts), reached by path and status rather than by
// schema name, so a regenerated document that changes a shape breaks `npm run typecheck`, not a user's page.
import type { paths } from "./src/api-types.js";

type Json<R> = R extends { content: { "application/json": infer B } } ? B : never;
type Problem_<R> = R extends { content: { "application/problem+json": infer B } } ? B : never;

/** `201` of `POST /v1/qr`: the new session and its QR. */
export type CreatedSession = Json<paths["/v1/qr"]["post"]["responses"][201]>;
/** `200` of `GET /v1/qr/{uuid}` (and each SSE `status` event's data): the session's status. */
export type StatusAnswer = Json<paths["/v1/qr/{uuid}"]["get"]["responses"][200]>;
/** An `application/problem+json` body (RFC 9457), as the gateway answers a refused request. */
export type Problem = Problem_<paths["/v1/qr/{uuid}"]["get"]["responses"][403]>;
/** What the phone user's session can be in, as the gateway says it. */
export type SessionStatus = StatusAnswer["status"];

/** The token answer of a confirmed login, handed to `onLogin` and the element's `login` event, once. */
export interface LoginResult {
  /** The web token: an ES256 JWT (RFC 9068) for your backend to verify against the gateway's JWKS. */
  token: NonNullable<StatusAnswer["token"]>;
  /** `DPoP` when the token is bound to this page's DPoP key (`cnf.jkt`), else `Bearer`. */
  token_type: NonNullable<StatusAnswer["token_type"]>;
  /** Seconds the token is valid for. */
  expires_in: NonNullable<StatusAnswer["expires_in"]>;
  user: NonNullable<StatusAnswer["user"]>;
  /** A DPoP-bound token only: a fresh DPoP proof (RFC 9449) for one request with this token, `ath` included. */
  proof?: (method: string, url: string) => Promise<string>;
  /** A DPoP-bound token only: `fetch` with `Authorization: DPoP <token>` and a fresh proof for this request. */
  fetch?: (url: string, init?: RequestInit) => Promise<Response>;
}

/** A DPoP key: a non-extractable WebCrypto P-256 key pair, and proofs signed with it. */
export interface DpopKey {
  /** A proof for `method` `url` (query and fragment dropped), with `ath` when `token` is given. */
  proof(method: string, url: string, token?: string): Promise<string>;
}

/** A fresh DPoP key, or null where WebCrypto is missing or refuses (the login is then a Bearer one). */
export declare function createDpopKey(subtle?: SubtleCrypto): Promise<DpopKey | null>;

/**
 * What the client shows: the gateway's statuses plus `loading` (a code is being issued), `refused` (this tab
 * lost the session's cookie: three 403s in a row) and `error` (the gateway is unreachable or failing).
 */
export type Status = SessionStatus | "loading" | "refused" | "error";

/** Every text the client shows, by key; override any of them (i18n). */
export interface Messages {
  loading: string;
  pending: string;
  scanned: string;
  /** Shown instead of `scanned` when the phone must type the number shown under the QR. */
  check_code: string;
  confirmed: string;
  denied: string;
  cancelled: string;
  expired: string;
  error: string;
  refused: string;
  /** The QR image's text alternative. */
  image_alt: string;
  /** The label of the button that asks for a new code. */
  new_code: string;
}

export interface MountOptions {
  /** The gateway's origin, e.g. `https://login.example.com`. Default: the page's origin. */
  gateway?: string;
  /** `"poll"` forces polling; by default Server-Sent Events, falling back to polling. */
  transport?: "events" | "poll";
  /** `false`: no DPoP key, a Bearer token. By default the token is bound to a key of this page (RFC 9449). */
  dpop?: boolean;
  /** Called once, with the token answer, when the login is confirmed. */
  onLogin?: (result: LoginResult) => void;
  /** Called on each status shown; for a failed request also with the error (the status line keeps its text). */
  onStatus?: (status: Status, error?: Error) => void;
  /** Called with each failed request's error (the client retries by itself). */
  onError?: (error: Error) => void;
  /** Texts to use instead of the English defaults. */
  messages?: Partial<Messages>;
}

export interface MountedLogin {
  /** Stops, cancels a login still in progress, and empties the root. Safe at any time, also before the code. */
  destroy(): void;
  /** Gives up the current code and shows a new one. */
  refresh(): Promise<void>;
  /** Replaces the texts (over the defaults) without a new code. */
  setMessages(messages: Partial<Messages>): void;
}

export declare const QrLogin: {
  /** Starts a QR login inside `root` (an empty element). */
  mount(root: HTMLElement, options?: MountOptions): MountedLogin;
};

/** The package's version; its major is the HTTP API's (`/v1/`). */
export declare const VERSION: string;
/** The English texts. */
export declare const DEFAULT_MESSAGES: Readonly<Messages>;

export interface StatusEventDetail {
  status: Status;
  /** The number to show, when the phone must type it (only in `scanned`). */
  checkCode: string | null;
}

export interface ErrorEventDetail {
  error: Error;
}

/** `<qr-login gateway="…" transport="poll" messages='{"pending":"…"}'>`. */
export interface QrLoginElement extends HTMLElement {
  /** Texts by key, over the `messages` attribute's. */
  messages: Partial<Messages>;
  /** The current status, or null before the element is connected. */
  readonly status: Status | null;
  refresh(): void;
  addEventListener(type: "login", listener: (event: CustomEvent<LoginResult>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: "status", listener: (event: CustomEvent<StatusEventDetail>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: "error", listener: (event: CustomEvent<ErrorEventDetail>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

/** Defines the element (done on import in a browser); returns its class. */
export declare function defineQrLoginElement(name?: string, registry?: CustomElementRegistry): {
  new (): QrLoginElement;
  prototype: QrLoginElement;
};

declare global {
  interface HTMLElementTagNameMap {
    "qr-login": QrLoginElement;
  }
}
