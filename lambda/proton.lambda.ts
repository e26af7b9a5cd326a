export async function handler(event: any) { return event; }
