/** A reference to a named schema of the document. */
export const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
