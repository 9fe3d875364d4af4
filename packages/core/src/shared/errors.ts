/** The closed set of failures a command can report; the HTTP host maps each tag to one status. */
export type Unauthenticated = { readonly _tag: "Unauthenticated"; readonly message: string };
export type Forbidden = { readonly _tag: "Forbidden"; readonly message: string };
export type NotFound = { readonly _tag: "NotFound"; readonly message: string };
export type Invalid = {
  readonly _tag: "Invalid";
  readonly message: string;
  readonly issues: readonly FieldIssue[];
};
export type Unsupported = { readonly _tag: "Unsupported"; readonly message: string };
export type TooLarge = { readonly _tag: "TooLarge"; readonly message: string; readonly limit: number };
export type Conflict = { readonly _tag: "Conflict"; readonly message: string };
export type Unavailable = {
  readonly _tag: "Unavailable";
  readonly message: string;
  readonly cause?: unknown;
  /** The operation may still have taken effect: the connection broke after COMMIT was sent. */
  readonly inDoubt?: true;
};

export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

export type DomainError =
  | Unauthenticated
  | Forbidden
  | NotFound
  | Invalid
  | Unsupported
  | TooLarge
  | Conflict
  | Unavailable;

export const unauthenticated = (message: string): Unauthenticated => ({ _tag: "Unauthenticated", message });
export const forbidden = (message: string): Forbidden => ({ _tag: "Forbidden", message });
export const notFound = (message: string): NotFound => ({ _tag: "NotFound", message });
export const invalid = (issues: readonly FieldIssue[]): Invalid => ({
  _tag: "Invalid",
  message: issues.map((i) => `${i.field}: ${i.message}`).join("; "),
  issues,
});
export const invalidField = (field: string, message: string): Invalid => invalid([{ field, message }]);
export const unsupported = (message: string): Unsupported => ({ _tag: "Unsupported", message });
export const tooLarge = (limit: number): TooLarge => ({
  _tag: "TooLarge",
  message: `payload exceeds the limit of ${limit} bytes`,
  limit,
});
export const conflict = (message: string): Conflict => ({ _tag: "Conflict", message });
export const unavailable = (message: string, cause?: unknown): Unavailable => ({ _tag: "Unavailable", message, cause });
export const inDoubt = (message: string, cause?: unknown): Unavailable => ({ _tag: "Unavailable", message, cause, inDoubt: true });

export const imageNotFound = (id: string): NotFound => notFound(`image ${id} not found`);
